import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { signStandardWebhook } from '../../../src/common/standard-webhooks';
import { QUEUES } from '../../../src/jobs/queues';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { RunningApp, startApp } from '../../support/app';
import { until } from '../../support/child';
import { json } from '../../support/http';
import { REDIS_URL } from '../../support/redis';

const SECRET = `whsec_${Buffer.from('generic-secret-0123456789abcdef').toString('base64')}`;

/** The other system's callback endpoint: verifies each callback with the official Standard Webhooks library. */
class CallbackReceiver {
  readonly received: {
    headers: IncomingHttpHeaders;
    body: { step: string; ticketId: string; comment?: { body: string; public: boolean } };
    valid: boolean;
  }[] = [];
  failures = 0;
  url = '';
  private server?: Server;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.failures > 0) {
          this.failures -= 1;
          res.writeHead(503).end();
          return;
        }
        const raw = Buffer.concat(chunks);
        let valid = true;
        try {
          new Webhook(SECRET).verify(raw.toString('utf8'), req.headers as Record<string, string>);
        } catch {
          valid = false;
        }
        this.received.push({
          headers: req.headers,
          body: JSON.parse(raw.toString()) as CallbackReceiver['received'][number]['body'],
          valid,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/callback`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

describe('Any ticket system (Standard Webhooks) → BeyondTrust session key', () => {
  let appliance: FakeAppliance;
  let receiver: CallbackReceiver;
  let sut: RunningApp;
  let queue: Queue;
  let hook: string;

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    receiver = await new CallbackReceiver().start();
    sut = await startApp({
      BT_SITE_URL: appliance.url,
      BT_CLIENT_ID: 'rsb-client',
      BT_CLIENT_SECRET: 'rsb-secret-0123456789',
      GENERIC_WEBHOOK_SECRET: SECRET,
      // The receiver listens on loopback, which callbacks reach only when listed on purpose.
      RSB_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    });
    queue = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    hook = `${sut.url}/webhooks/generic`;
  });
  afterAll(async () => {
    await queue.close();
    await sut.close();
    await receiver.stop();
    await appliance.stop();
  });

  /** Signed by the official Standard Webhooks library, as a sender built on it would. */
  const send = (body: unknown, id: string = randomUUID(), headers?: Record<string, string>) => {
    const raw = JSON.stringify(body);
    const at = new Date();
    const signed = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(SECRET).sign(id, at, raw),
    };
    return fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', ...(headers ?? signed) }, body: raw });
  };
  const request = (id: string, callback = true) => ({
    action: 'session.requested',
    ticket: {
      id,
      subject: 'VPN down',
      priority: 'High',
      requester: { name: 'Casey', email: 'casey@example.com' },
      fields: { site: 'Lyon' },
    },
    ...(callback ? { callbackUrl: receiver.url } : {}),
  });
  const callbacksFor = (id: string) => receiver.received.filter((r) => r.body.ticketId === id);

  it('creates the key and sends each write to the callback URL, signed, once', async () => {
    const res = await send(request('T-1'), 'delivery-1');
    expect(res.status).toBe(202);
    await until(async () => callbacksFor('T-1').length === 2, 15_000, 'two callbacks');
    const [reply, note] = callbacksFor('T-1');
    expect([reply.valid, note.valid]).toEqual([true, true]);
    expect(reply.headers['webhook-id']).toBe('delivery-1.publicReply');
    expect(reply.body.comment).toEqual({ public: true, body: expect.stringContaining('enter the code') });
    expect(note.body).toMatchObject({ step: 'internalNote', comment: { public: false } });
    expect(appliance.requests.filter((r) => r.params['session.custom.external_key'] === 'T-1')).toHaveLength(1);

    expect((await send(request('T-1'), 'delivery-1')).status).toBe(202);
    await new Promise((r) => setTimeout(r, 400));
    expect(callbacksFor('T-1')).toHaveLength(2);
  });

  it('retries a failing callback receiver without repeating the steps that went through', async () => {
    receiver.failures = 1;
    await send(request('T-2'));
    await until(async () => callbacksFor('T-2').length === 2, 20_000, 'the callbacks after a 503');
    expect(callbacksFor('T-2').map((c) => c.body.step)).toEqual(['publicReply', 'internalNote']);
  });

  it('still creates the key when there is no callback URL', async () => {
    expect((await send(request('T-3', false))).status).toBe(202);
    await until(async () => appliance.requests.some((r) => r.params['session.custom.external_key'] === 'T-3'), 15_000, 'the key');
  });

  describe('bad requests get a 4xx and enqueue nothing', () => {
    const jobCount = async () => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
    const now = Math.floor(Date.now() / 1000);
    it.each([
      ['no signature headers', { 'content-type': 'application/json' }, 401, 'missing_headers'],
      [
        'a wrong signature',
        { 'webhook-id': 'x', 'webhook-timestamp': String(now), 'webhook-signature': 'v1,AAAA' },
        401,
        'invalid_signature',
      ],
      [
        'a stale timestamp',
        { 'webhook-id': 'x', 'webhook-timestamp': String(now - 3600), 'webhook-signature': 'STALE' },
        401,
        'stale_timestamp',
      ],
    ])('%s', async (_name, headers, status, code) => {
      const body = JSON.stringify(request('T-9'));
      const h = { ...headers } as Record<string, string>;
      if (h['webhook-signature'] === 'STALE') h['webhook-signature'] = signStandardWebhook(SECRET, 'x', now - 3600, body);
      const before = await jobCount();
      const res = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body });
      expect(res.status).toBe(status);
      expect((await json(res)).error.code).toBe(code);
      expect(await jobCount()).toBe(before);
    });

    it('missing fields and a bad callback URL', async () => {
      const before = await jobCount();
      const res = await send({ action: 'session.requested', ticket: {}, callbackUrl: 'ftp://nope' });
      expect(res.status).toBe(400);
      expect((await json(res)).error.details).toEqual(
        expect.arrayContaining(['ticket.id must be the ticket id in your system', 'callbackUrl must be an http(s) URL']),
      );
      expect(await jobCount()).toBe(before);
    });
  });
});
