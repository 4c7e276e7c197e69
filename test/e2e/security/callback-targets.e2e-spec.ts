import { lookup } from 'node:dns/promises';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { standardWebhookHeaders } from '../../../src/common/standard-webhooks';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { RunningApp, startApp, TEST_API_TOKEN } from '../../support/app';
import { applianceEnv } from '../../support/fake-env';
import { json } from '../../support/http';

const GENERIC_SECRET = `whsec_${Buffer.from('generic-secret-0123456789').toString('base64')}`;
const CALLBACK_SECRET = `whsec_${Buffer.from('callback-secret-0123456789').toString('base64')}`;

/** Something listening inside the network perimeter (a metadata service, an admin port): counts what reaches it. */
class InnerService {
  hits = 0;
  port = 0;
  private server?: Server;

  async start(address: string): Promise<this> {
    this.server = createServer((req, res) => {
      this.hits += 1;
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, address, resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const api = (base: string, path: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const genericWebhook = (base: string, body: unknown, id: string) => {
  const raw = JSON.stringify(body);
  return fetch(`${base}/webhooks/generic`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...standardWebhookHeaders(GENERIC_SECRET, id, raw) },
    body: raw,
  });
};

const CUSTOMER = { name: 'Casey', ipAddress: '203.0.113.7', operatingSystem: 'Windows 11', computerName: 'CASEY-PC' };

describe('Callbacks cannot be aimed inward', () => {
  let appliance: FakeAppliance;
  let inner: InnerService;
  let sut: RunningApp;

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    inner = await new InnerService().start('127.0.0.1');
    sut = await startApp({
      ...applianceEnv(appliance),
      GENERIC_WEBHOOK_SECRET: GENERIC_SECRET,
      RSB_CALLBACK_SECRET: CALLBACK_SECRET,
      BT_POLL_INTERVAL_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await sut.close();
    await Promise.all([appliance.stop(), inner.stop()]);
  });

  const keysMade = () => appliance.requests.filter((r) => r.params.action === 'generate_session_key').length;

  const inward = () => [
    `http://127.0.0.1:${inner.port}/hook`,
    `http://2130706433:${inner.port}/hook`, // 127.0.0.1 written as one number
    `http://[::1]:${inner.port}/hook`,
    `http://[::ffff:127.0.0.1]:${inner.port}/hook`,
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.8/admin',
    'http://192.168.1.1/',
    `http://localhost:${inner.port}/hook`,
    'ftp://bot.example.com/hook',
    'file:///etc/passwd',
  ];

  it('answers 400 naming callbackUrl on the session-key API, creating no key', async () => {
    const before = keysMade();
    for (const callbackUrl of inward()) {
      const res = await api(sut.url, '/api/v1/tickets/generic/T-100/session-key', { callbackUrl });
      expect({ callbackUrl, status: res.status }).toEqual({ callbackUrl, status: 400 });
      expect(JSON.stringify((await json(res)).error)).toContain('callbackUrl');
    }
    expect(keysMade()).toBe(before);
    expect(inner.hits).toBe(0);
  });

  it('answers 400 naming callbackUrl on the generic webhook and the chat escalation', async () => {
    for (const callbackUrl of inward()) {
      const hook = await genericWebhook(sut.url, { action: 'session.requested', ticket: { id: 'T-101' }, callbackUrl }, `d-${callbackUrl}`);
      expect({ callbackUrl, status: hook.status }).toEqual({ callbackUrl, status: 400 });
      expect(JSON.stringify(await json(hook))).toContain('callbackUrl');
      const chat = await api(sut.url, '/api/v1/chat/escalations', { customer: CUSTOMER, callbackUrl, queue: 'team:1' });
      expect({ callbackUrl, status: chat.status }).toEqual({ callbackUrl, status: 400 });
      expect(JSON.stringify(await json(chat))).toContain('callbackUrl');
    }
    expect(inner.hits).toBe(0);
    expect(keysMade()).toBe(0);
  });

  it('refuses, when connecting, a host name that resolves to an inner address (as after DNS rebinding)', async () => {
    // This machine's own name resolves to one of its addresses: a name no URL check can judge.
    const name = hostname();
    const [address] = await lookup(name, { all: true });
    expect({ name, public: !/^(127\.|10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.|::1$|fe80:|fd)/.test(address.address) }).toEqual({
      name,
      public: false,
    });
    const target = await new InnerService().start(address.address);
    try {
      const url = `http://${name}:${target.port}/hook`;
      const res = await api(sut.url, '/api/v1/tickets/generic/T-102/session-key', { callbackUrl: url });
      expect(res.status).toBe(502);
      expect((await json(res)).error.message).toMatch(
        new RegExp(`${name} resolves to ${address.address.replace(/\./g, '\\.')}.*not a public address`),
      );
      expect(target.hits).toBe(0);

      // The same name, listed on purpose, is called.
      const allowed = await startApp({
        ...applianceEnv(appliance),
        GENERIC_WEBHOOK_SECRET: GENERIC_SECRET,
        RSB_CALLBACK_ALLOWED_HOSTS: name,
        BT_POLL_INTERVAL_SECONDS: '0',
      });
      try {
        const ok = await api(allowed.url, '/api/v1/tickets/generic/T-103/session-key', { callbackUrl: url });
        expect(ok.status).toBe(201);
        expect(target.hits).toBe(2);
      } finally {
        await allowed.close();
      }
    } finally {
      await target.stop();
    }
  });
});

describe('RSB_CALLBACK_ALLOWED_HOSTS', () => {
  let sut: RunningApp;

  beforeAll(async () => {
    sut = await startApp({
      RSB_ROLE: 'api',
      GENERIC_WEBHOOK_SECRET: GENERIC_SECRET,
      RSB_CALLBACK_ALLOWED_HOSTS: 'hooks.example.com,*.bots.example.com',
    });
  });
  afterAll(() => sut.close());

  it.each([
    ['https://hooks.example.com/rs-bridge', 202],
    ['https://eu.bots.example.com/rs-bridge', 202],
    ['http://a.b.bots.example.com/x', 202],
    ['https://bots.example.com/rs-bridge', 400],
    ['https://hooks.example.com.evil.example.net/x', 400],
    ['https://evilbots.example.com/x', 400],
    ['https://10.0.0.8/x', 400],
    ['ftp://hooks.example.com/x', 400],
  ])('%s → %i', async (callbackUrl, status) => {
    const res = await genericWebhook(sut.url, { action: 'session.requested', ticket: { id: 'T-200' }, callbackUrl }, `d-${callbackUrl}`);
    expect(res.status).toBe(status);
    if (status === 400)
      expect(JSON.stringify((await json(res)).error)).toMatch(
        /callbackUrl (must be an http\(s\) URL|host \S+ is not in RSB_CALLBACK_ALLOWED_HOSTS)/,
      );
  });
});
