import { Queue } from 'bullmq';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUEUES } from '../../../src/jobs/queues';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeServiceNow } from '../../fakes/servicenow/fake-servicenow';
import { RunningApp, startApp } from '../../support/app';
import { until } from '../../support/child';
import { json } from '../../support/http';
import { REDIS_URL } from '../../support/redis';

const RULES = `
routing:
  default: general
  rules:
    - match: { system: servicenow, groups: [service desk], priorities: [critical] }
      queue: team:1
fields:
  ticket_id: "{{ ticket.number }}"
writeBack:
  servicenow:
    fields: { u_remote_session_key: "{{ key.shortKey }}" }
`;

describe('ServiceNow incident → BeyondTrust session key', () => {
  let appliance: FakeAppliance;
  let servicenow: FakeServiceNow;
  let sut: RunningApp;
  let queue: Queue;
  let writes: Queue;
  let hook: string;

  const boot = async (auth: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'rsb-sn-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    return startApp({
      BT_SITE_URL: appliance.url,
      BT_CLIENT_ID: 'rsb-client',
      BT_CLIENT_SECRET: 'rsb-secret-0123456789',
      SERVICENOW_INSTANCE_URL: servicenow.url,
      SERVICENOW_WEBHOOK_SECRET: servicenow.webhookSecret,
      RSB_RULES_FILE: join(dir, 'rules.yaml'),
      ...auth,
    });
  };

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    servicenow = await new FakeServiceNow().start();
    sut = await boot({ SERVICENOW_USERNAME: servicenow.username, SERVICENOW_PASSWORD: servicenow.password });
    queue = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    writes = new Queue(QUEUES.ticketWrites, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    hook = `${sut.url}/webhooks/servicenow`;
  });
  afterAll(async () => {
    await queue.close();
    await writes.close();
    await sut.close();
    await servicenow.stop();
    await appliance.stop();
  });

  const keyRequests = () => appliance.requests.filter((r) => r.params.action === 'generate_session_key');
  const jobCount = async () => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);

  it('creates the key for the routed queue and writes comment, work note and fields to the incident in one PATCH', async () => {
    const incident = servicenow.createRecord('INC0010001');
    const patches = () => servicenow.requests.filter((r) => r.method === 'PATCH' && r.path.includes(incident.sys_id));
    const res = await servicenow.sendBusinessRule(hook, incident);
    expect(res.status).toBe(202);
    await until(async () => incident.work_notes.length === 1, 15_000, 'the work note');
    await new Promise((r) => setTimeout(r, 300));
    expect(patches()).toHaveLength(1);
    expect(keyRequests().pop()!.params).toMatchObject({
      queue_id: 'team:1',
      'session.custom.external_key': 'INC0010001',
      'session.custom.ticket_id': 'INC0010001',
      'session.priority': '1',
    });
    const shortKey = [...appliance.keys.values()].find((k) => k.externalKey === 'INC0010001')!.shortKey;
    expect(incident.comments).toEqual([expect.stringContaining(`enter the code ${shortKey}`)]);
    expect(incident.work_notes[0]).toContain(`Remote support session key ${shortKey} created for queue team:1`);
    expect(incident.fields).toEqual({ u_remote_session_key: shortKey });
  });

  it.each(['header', 'basic'] as const)('accepts the secret as %s authentication', async (auth) => {
    const incident = servicenow.createRecord(`INC00200${auth.length}`);
    expect((await servicenow.sendBusinessRule(hook, incident, {}, auth)).status).toBe(202);
    await until(async () => incident.work_notes.length === 1, 15_000, 'the work note');
  });

  it('does nothing twice for a redelivered request', async () => {
    const incident = servicenow.createRecord('INC0010003');
    const first = await json(await servicenow.sendBusinessRule(hook, incident, {}, 'hmac', 'delivery-3'));
    await until(async () => incident.work_notes.length === 1, 15_000, 'the first delivery');
    const again = await json(await servicenow.sendBusinessRule(hook, incident, {}, 'hmac', 'delivery-3'));
    expect(again.jobId).toBe(first.jobId);
    await new Promise((r) => setTimeout(r, 400));
    expect(incident.comments).toHaveLength(1);
    expect(keyRequests().filter((r) => r.params['session.custom.ticket_id'] === 'INC0010003')).toHaveLength(1);
  });

  it('gives up the write-back with the vendor message when the record does not exist (no endless retries)', async () => {
    const ghost = { sys_id: 'f'.repeat(32), number: 'INC0099999', comments: [], work_notes: [], fields: {}, attachments: [] };
    const res = await json(await servicenow.sendBusinessRule(hook, ghost));
    // The key is made and the event done; its write-back is what fails, for good.
    await until(async () => (await queue.getJobState(res.jobId)) === 'completed', 15_000, 'the key');
    const writeId = `write-${res.jobId}`;
    await until(async () => (await writes.getJobState(writeId)) === 'failed', 15_000, 'the write-back to fail');
    expect((await writes.getJob(writeId))!.failedReason).toContain('servicenow: HTTP 404: No Record found');
    expect((await writes.getJob(writeId))!.attemptsMade).toBe(1);
  });

  it('waits out a 429 with Retry-After and posts once', async () => {
    const incident = servicenow.createRecord('INC0010004');
    servicenow.failNext(1, 429, '1');
    await servicenow.sendBusinessRule(hook, incident);
    await until(async () => incident.work_notes.length === 1, 20_000, 'the work note after the 429');
    expect(incident.comments).toHaveLength(1);
  });

  describe('bad requests get a 4xx and enqueue nothing', () => {
    it.each([
      ['no authentication', { header: {} }, {}, 401, 'unauthenticated'],
      ['a wrong shared secret', { header: { 'x-rsb-webhook-secret': 'nope' } }, {}, 401, 'invalid_secret'],
      ['a wrong signature', { header: { 'x-rsb-signature': 'AAAA' } }, {}, 401, 'invalid_signature'],
      ['a bad sys_id', 'hmac', { sys_id: 'nope' }, 400, 'validation_failed'],
      ['another table', 'hmac', { table: 'problem' }, 400, 'validation_failed'],
    ] as const)('%s', async (_name, auth, extra, status, code) => {
      const before = await jobCount();
      const res = await servicenow.sendBusinessRule(hook, servicenow.createRecord('INC0000000'), extra, auth as never);
      expect(res.status).toBe(status);
      expect((await json(res)).error.code).toBe(code);
      expect(await jobCount()).toBe(before);
    });
  });

  it('authenticates with OAuth client credentials when configured', async () => {
    const oauth = await boot({ SERVICENOW_CLIENT_ID: servicenow.clientId, SERVICENOW_CLIENT_SECRET: servicenow.clientSecret });
    try {
      const incident = servicenow.createRecord('INC0010005');
      await servicenow.sendBusinessRule(`${oauth.url}/webhooks/servicenow`, incident);
      await until(async () => incident.work_notes.length === 1, 15_000, 'the work note over OAuth');
      expect(servicenow.tokenRequests).toBe(1);
      servicenow.expireTokens();
      const next = servicenow.createRecord('INC0010006');
      await servicenow.sendBusinessRule(`${oauth.url}/webhooks/servicenow`, next);
      await until(async () => next.work_notes.length === 1, 15_000, 'the work note with a renewed token');
      expect(servicenow.tokenRequests).toBe(2);
    } finally {
      await oauth.close();
    }
  });
});
