import { Queue } from 'bullmq';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUEUES } from '../../../src/jobs/queues';
import { KeyExpiryService } from '../../../src/session-end/key-expiry.service';
import { ArtifactStore, KEY_NOTE_STEP, keyNoteScope } from '../../../src/session-end/session-stores';
import { LinkStore } from '../../../src/sessions/link.store';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp } from '../../support/app';
import { until } from '../../support/child';
import { json } from '../../support/http';
import { REDIS_URL } from '../../support/redis';

const RULES = `
routing:
  default: team:1
  rules:
    - name: vip printers
      match: { system: zendesk, tags: [vip], fields: { product: printer } }
      queue: team:2
      priority: 1
      skills: [printers]
fields:
  ticket_id: "{{ ticket.id }}"
  customer_email: "{{ ticket.requester.email }}"
sessionKey:
  externalKey: "ZD-{{ ticket.number }}"
  ttl: 3600
writeBack:
  zendesk:
    customFields: { "360000111": "{{ key.shortKey }}" }
    tags: [rsb_key_sent]
`;

const triggerBody = (id: string, extra: Record<string, unknown> = {}) => ({
  action: 'session.requested',
  ticket: {
    id,
    url: `https://example.zendesk.com/agent/tickets/${id}`,
    subject: 'Printer on fire',
    priority: 'High',
    group: 'Tier 2',
    tags: 'vip printers',
    requester: { name: 'Casey Customer', email: 'casey@example.com' },
    custom_fields: { product: 'printer' },
    ...extra,
  },
});

describe('Zendesk ticket → BeyondTrust session key', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let queue: Queue;
  let hook: string;

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    const dir = mkdtempSync(join(tmpdir(), 'rsb-zd-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    sut = await startApp({
      BT_SITE_URL: appliance.url,
      BT_CLIENT_ID: 'rsb-client',
      BT_CLIENT_SECRET: 'rsb-secret-0123456789',
      ZENDESK_BASE_URL: zendesk.url,
      ZENDESK_EMAIL: zendesk.email,
      ZENDESK_API_TOKEN: zendesk.apiToken,
      ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
      ZENDESK_WEBHOOK_SECRET_PREVIOUS: 'zd-old-secret-0123456789',
      RSB_RULES_FILE: join(dir, 'rules.yaml'),
      RSB_WEBHOOK_MAX_BYTES: '4096',
    });
    queue = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    hook = `${sut.url}/webhooks/zendesk`;
  });
  afterAll(async () => {
    await queue.close();
    await sut.close();
    await zendesk.stop();
    await appliance.stop();
  });

  const keyRequests = () => appliance.requests.filter((r) => r.params.action === 'generate_session_key');
  const jobCount = async () => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);

  const updatesOf = (id: string) => zendesk.requests.filter((r) => r.method === 'PUT' && r.path === `/api/v2/tickets/${id}.json`);

  it('creates the key with the routed queue, external key and mapped fields, and writes it back in one update', async () => {
    const ticket = zendesk.createTicket('101');
    const res = await zendesk.sendWebhook(hook, triggerBody('101'));
    expect(res.status).toBe(202);
    expect((await json(res)).jobId).toMatch(/^zendesk-[0-9a-f]{32}$/);

    await until(async () => ticket.comments.length === 1, 15_000, 'the key on the ticket');
    await new Promise((r) => setTimeout(r, 300));
    expect(keyRequests()).toHaveLength(1);
    expect(keyRequests()[0].params).toMatchObject({
      type: 'support',
      queue_id: 'team:2',
      'session.custom.external_key': 'ZD-101',
      'session.custom.ticket_id': '101',
      'session.custom.customer_email': 'casey@example.com',
      'session.priority': '1',
      'session.skills': 'printers',
      ttl: '3600',
    });
    const shortKey = [...appliance.keys.values()].find((k) => k.externalKey === 'ZD-101')!.shortKey;
    const [reply] = ticket.comments;
    expect(reply.public).toBe(true);
    expect(reply.body).toContain(`enter the code ${shortKey}`);
    expect(reply.body).toContain(`?ak=${shortKey}`);
    // The fields and tags rode on the reply: one Update Ticket call for the key.
    expect(updatesOf('101')).toHaveLength(1);
    expect(ticket.customFields).toEqual({ '360000111': shortKey });
    expect(ticket.tags).toEqual(['rsb_key_sent']);
    // Zendesk takes one comment per update: the key's internal note waits on the link for the session's note.
    const link = await sut.app.get(LinkStore).byExternalKey('ZD-101');
    expect(link?.keyNote).toContain(`Remote support session key ${shortKey} created for queue team:2`);
    expect(link?.keyNote).toContain('a representative is available');
  });

  it('writes the deferred key note when the key expires with no session note having carried it, once', async () => {
    const ticket = zendesk.createTicket('120');
    await zendesk.sendWebhook(hook, triggerBody('120'));
    await until(async () => ticket.comments.length === 1, 15_000, 'the key');
    const link = (await sut.app.get(LinkStore).byExternalKey('ZD-120'))!;
    // Watched though outcomes.expiredKey is not configured, so that the note is never lost.
    const later = Date.parse(link.expiresAt!) + 5 * 60_000;
    expect((await sut.app.get(LinkStore).expired(later)).map((e) => e.link.shortKey)).toContain(link.shortKey);
    const before = appliance.requests.length;
    await sut.app.get(KeyExpiryService).check(later);
    expect(ticket.comments).toHaveLength(2);
    expect(ticket.comments[1]).toMatchObject({ public: false, body: expect.stringContaining(link.keyNote!) });
    expect(await sut.app.get(ArtifactStore).isDone(keyNoteScope(link.system, link.ticketId, link.shortKey), KEY_NOTE_STEP)).toBe(true);
    // Without the rule nothing needs to ask the appliance whether a session used the key.
    expect(appliance.requests.length).toBe(before);
    await sut.app.get(KeyExpiryService).check(later);
    expect(ticket.comments).toHaveLength(2);
  });

  it('writes no deferred key note at expiry when a session note carried it already', async () => {
    const ticket = zendesk.createTicket('121');
    await zendesk.sendWebhook(hook, triggerBody('121'));
    await until(async () => ticket.comments.length === 1, 15_000, 'the key');
    const link = (await sut.app.get(LinkStore).byExternalKey('ZD-121'))!;
    // What the session-end note does when it carries the key note.
    await sut.app.get(ArtifactStore).claim(keyNoteScope(link.system, link.ticketId, link.shortKey), KEY_NOTE_STEP, '{"lsid":"a-session"}');
    await sut.app.get(KeyExpiryService).check(Date.parse(link.expiresAt!) + 5 * 60_000);
    expect(ticket.comments).toHaveLength(1);
  });

  it('replays a delivery whose jobs are gone without a second key or a second write', async () => {
    const ticket = zendesk.createTicket('122');
    const invocationId = 'inv-122';
    const { jobId } = await json(await zendesk.sendWebhook(hook, triggerBody('122'), { invocationId }));
    const writes = new Queue(QUEUES.ticketWrites, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    try {
      await until(async () => (await writes.getJobState(`write-${jobId}`)) === 'completed', 15_000, 'the write-back');
      // An operator cleaned the queues, and the ticket system sends the same delivery again.
      await (await queue.getJob(jobId))!.remove();
      await (await writes.getJob(`write-${jobId}`))!.remove();
      expect((await zendesk.sendWebhook(hook, triggerBody('122'), { invocationId })).status).toBe(202);
      await until(async () => (await writes.getJobState(`write-${jobId}`)) === 'completed', 15_000, 'the replayed write-back');
    } finally {
      await writes.close();
    }
    expect(keyRequests().filter((r) => r.params['session.custom.ticket_id'] === '122')).toHaveLength(1);
    expect(ticket.comments).toHaveLength(1);
    expect(updatesOf('122')).toHaveLength(1);
  });

  it('does nothing twice when the same delivery arrives again', async () => {
    const ticket = zendesk.createTicket('102');
    const invocationId = 'inv-102';
    const first = await json(await zendesk.sendWebhook(hook, triggerBody('102'), { invocationId }));
    await until(async () => ticket.comments.length === 1, 15_000, 'the first delivery');
    const again = await zendesk.sendWebhook(hook, triggerBody('102'), { invocationId });
    expect(again.status).toBe(202);
    expect((await json(again)).jobId).toBe(first.jobId);
    await new Promise((r) => setTimeout(r, 500));
    expect(keyRequests().filter((r) => r.params['session.custom.ticket_id'] === '102')).toHaveLength(1);
    expect(ticket.comments).toHaveLength(1);
  });

  it('creates a new key for a new request on the same ticket', async () => {
    const ticket = zendesk.createTicket('103');
    // Zendesk signs with a timestamp in seconds: two requests a second apart are two deliveries.
    const earlier = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await zendesk.sendWebhook(hook, triggerBody('103'), { timestamp: earlier });
    await until(async () => ticket.comments.length === 1, 15_000, 'the first key');
    await zendesk.sendWebhook(hook, triggerBody('103'));
    await until(async () => ticket.comments.length === 2, 15_000, 'the second key');
    expect(keyRequests().filter((r) => r.params['session.custom.ticket_id'] === '103')).toHaveLength(2);
  });

  it('routes by the default queue and accepts the previous secret during a rotation', async () => {
    const ticket = zendesk.createTicket('104');
    const res = await zendesk.sendWebhook(hook, triggerBody('104', { tags: '', custom_fields: {} }), {
      secret: 'zd-old-secret-0123456789',
    });
    expect(res.status).toBe(202);
    await until(async () => ticket.comments.length === 1, 15_000, 'the key');
    expect(keyRequests().pop()!.params.queue_id).toBe('team:1');
  });

  it('accepts the event-subscription envelope when a mapped tag is added, and ignores other events', async () => {
    const ticket = zendesk.createTicket('105');
    const envelope = (type: string, event: object) => ({
      type,
      account_id: 12514403,
      id: `evt-${type}`,
      time: new Date().toISOString(),
      zendesk_event_version: '2022-11-06',
      subject: 'zen:ticket:105',
      detail: { id: '105', subject: 'VPN down', priority: 'NORMAL', group_id: '77', tags: ['remote_support'] },
      event,
    });
    const ignored = await zendesk.sendWebhook(hook, envelope('zen:event-type:ticket.status_changed', { current: 'open' }));
    expect(ignored.status).toBe(200);
    expect((await json(ignored)).ignored).toMatch(/no tag mapped/);
    const res = await zendesk.sendWebhook(
      hook,
      envelope('zen:event-type:ticket.tags_changed', { tags_added: ['remote_support'], tags_removed: [] }),
    );
    expect(res.status).toBe(202);
    await until(async () => ticket.comments.length === 1, 15_000, 'the key');
    expect(keyRequests().pop()!.params).toMatchObject({ 'session.custom.external_key': 'ZD-105', 'session.priority': '2' });

    // The same event with the added tags nested as event.tags.added, the other shape Zendesk sends.
    const nested = zendesk.createTicket('155');
    const res2 = await zendesk.sendWebhook(hook, {
      ...envelope('zen:event-type:ticket.tags_changed', { tags: { added: ['remote_support'], removed: [] } }),
      id: 'evt-nested',
      subject: 'zen:ticket:155',
      detail: { id: '155', subject: 'VPN down', priority: 'NORMAL', group_id: '77', tags: ['remote_support'] },
    });
    expect(res2.status).toBe(202);
    await until(async () => nested.comments.length === 1, 15_000, 'the key for the nested shape');
  });

  it('writes the appliance error to the ticket as an internal note instead of losing it', async () => {
    const ticket = zendesk.createTicket('106');
    appliance.teams.splice(1, 1); // team:2 disappears: the routed queue no longer exists
    try {
      await zendesk.sendWebhook(hook, triggerBody('106'));
      await until(async () => ticket.comments.length === 1, 15_000, 'the failure note');
    } finally {
      appliance.teams.push({ id: '2', name: 'Escalations', codeName: 'escalations', issues: [] });
    }
    expect(ticket.comments[0]).toMatchObject({
      public: false,
      body: expect.stringContaining('could not create a remote support session key: Invalid queue ID'),
    });
  });

  it('retries through a Zendesk outage and a 429, posting each comment once', async () => {
    const ticket = zendesk.createTicket('107');
    zendesk.failNext(2, 503);
    zendesk.failNext(1, 429, '1');
    await zendesk.sendWebhook(hook, triggerBody('107'));
    await until(async () => ticket.comments.length === 1, 30_000, 'the key after the outage');
    await new Promise((r) => setTimeout(r, 300));
    expect(ticket.comments.map((c) => c.public)).toEqual([true]);
    expect(keyRequests().filter((r) => r.params['session.custom.ticket_id'] === '107')).toHaveLength(1);
  });

  it('has a fake Zendesk that takes the Tickets API as documented: Show Ticket, List Tickets with its parameters', async () => {
    const ticket = zendesk.createTicket('160', ['vip']);
    ticket.externalId = 'rs-bridge:abc';
    const auth = { authorization: `Basic ${Buffer.from(`${zendesk.email}/token:${zendesk.apiToken}`).toString('base64')}` };
    const shown = await fetch(`${zendesk.url}/api/v2/tickets/160.json`, { headers: auth });
    expect(shown.status).toBe(200);
    expect(((await shown.json()) as { ticket: unknown }).ticket).toMatchObject({ id: 160, external_id: 'rs-bridge:abc', tags: ['vip'] });
    expect((await fetch(`${zendesk.url}/api/v2/tickets/999999.json`, { headers: auth })).status).toBe(404);
    const listed = await fetch(`${zendesk.url}/api/v2/tickets.json?page[size]=1&external_id=rs-bridge%3Aabc&sort_by=updated_at`, {
      headers: auth,
    });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { tickets: { id: number }[] }).tickets.map((t) => t.id)).toEqual([160]);
  });

  it('handles other tickets while one waits on a slow answer', async () => {
    const slow = zendesk.createTicket('110');
    const other = zendesk.createTicket('111');
    zendesk.holdNext(1, 'PUT', /^\/api\/v2\/tickets\/110\.json$/);
    await zendesk.sendWebhook(hook, triggerBody('110'));
    await until(async () => zendesk.held.length === 1, 15_000, 'ticket 110 to wait on Zendesk');
    await zendesk.sendWebhook(hook, triggerBody('111'));
    await until(async () => other.comments.length === 1, 10_000, 'ticket 111 while 110 waits');
    // The held update took effect; its answer has not come.
    expect(slow.comments).toHaveLength(1);
    zendesk.releaseHeld();
    const writes = new Queue(QUEUES.ticketWrites, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    try {
      await until(async () => (await writes.getJobCounts('active', 'waiting')).active === 0, 15_000, 'ticket 110 once Zendesk answered');
    } finally {
      await writes.close();
    }
    expect(slow.comments).toHaveLength(1);
  });

  describe('bad requests get a 4xx and enqueue nothing', () => {
    it.each([
      ['a bad signature', () => zendesk.sendWebhook(hook, triggerBody('1'), { signature: 'AAAA' }), 401, 'invalid_signature'],
      ['a wrong secret', () => zendesk.sendWebhook(hook, triggerBody('1'), { secret: 'not-the-secret' }), 401, 'invalid_signature'],
      [
        'a stale timestamp',
        () => zendesk.sendWebhook(hook, triggerBody('1'), { timestamp: '2020-01-01T00:00:00Z' }),
        401,
        'stale_timestamp',
      ],
      ['malformed JSON', () => zendesk.sendWebhook(hook, undefined, { rawBody: '{"action": ' }), 400, 'bad_request'],
      [
        'missing fields',
        () => zendesk.sendWebhook(hook, { action: 'session.requested', ticket: { subject: 'x' } }),
        400,
        'validation_failed',
      ],
      ['an unknown action', () => zendesk.sendWebhook(hook, { ...triggerBody('1'), action: 'coffee.requested' }), 400, 'validation_failed'],
      [
        'an oversized body',
        () => zendesk.sendWebhook(hook, triggerBody('1', { subject: 'x'.repeat(900), custom_fields: { notes: 'y'.repeat(4000) } })),
        413,
        'payload_too_large',
      ],
    ])('%s', async (_name, send, status, code) => {
      const before = await jobCount();
      const res = await send();
      expect(res.status).toBe(status);
      expect((await json(res)).error.code).toBe(code);
      expect(await jobCount()).toBe(before);
    });

    it('lists every invalid field', async () => {
      const res = await zendesk.sendWebhook(hook, {
        action: 'session.requested',
        ticket: { id: 'abc', requester: { email: 'not-an-email' } },
      });
      expect((await json(res)).error.details).toEqual(
        expect.arrayContaining([
          'ticket.id must be the numeric Zendesk ticket id ({{ticket.id}})',
          'requester.email must be an email address',
        ]),
      );
    });
  });
});

describe('Zendesk webhooks when Zendesk is not configured', () => {
  it('answer 404', async () => {
    const sut = await startApp();
    try {
      const res = await new FakeZendesk().sendWebhook(`${sut.url}/webhooks/zendesk`, triggerBody('1'));
      expect(res.status).toBe(404);
      expect((await json(res)).error.message).toMatch(/ZENDESK_BASE_URL/);
    } finally {
      await sut.close();
    }
  });
});

describe('A Zendesk key that expires unused, with outcomes.expiredKey', () => {
  it("writes the deferred key note and the rule's note in one comment, then the rule's change", async () => {
    const appliance = await new FakeAppliance().start();
    const zendesk = await new FakeZendesk().start();
    const dir = mkdtempSync(join(tmpdir(), 'rsb-zd-exp-'));
    writeFileSync(
      join(dir, 'rules.yaml'),
      `outcomes:\n  expiredKey:\n    note: "Key {{ key.shortKey }} expired unused."\n    zendesk: { status: pending }\n`,
    );
    const sut = await startApp({
      BT_SITE_URL: appliance.url,
      BT_CLIENT_ID: 'rsb-client',
      BT_CLIENT_SECRET: 'rsb-secret-0123456789',
      ZENDESK_BASE_URL: zendesk.url,
      ZENDESK_EMAIL: zendesk.email,
      ZENDESK_API_TOKEN: zendesk.apiToken,
      ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
      RSB_RULES_FILE: join(dir, 'rules.yaml'),
    });
    try {
      const ticket = zendesk.createTicket('130');
      await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, { action: 'session.requested', ticket: { id: '130', subject: 'VPN' } });
      await until(async () => ticket.comments.length === 1, 15_000, 'the key');
      const link = (await sut.app.get(LinkStore).byExternalKey('130'))!;
      await sut.app.get(KeyExpiryService).check(Date.parse(link.expiresAt!) + 5 * 60_000);
      expect(ticket.comments).toHaveLength(2);
      expect(ticket.comments[1].public).toBe(false);
      expect(ticket.comments[1].body).toContain(link.keyNote!);
      expect(ticket.comments[1].body).toContain(`Key ${link.shortKey} expired unused.`);
      expect(ticket.status).toBe('pending');
    } finally {
      await sut.close();
      await zendesk.stop();
      await appliance.stop();
    }
  });
});
