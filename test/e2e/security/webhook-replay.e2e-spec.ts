import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { QUEUES } from '../../../src/jobs/queues';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeServiceNow } from '../../fakes/servicenow/fake-servicenow';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp } from '../../support/app';
import { until } from '../../support/child';
import { applianceEnv, servicenowEnv, zendeskEnv } from '../../support/fake-env';
import { json } from '../../support/http';
import { REDIS_URL } from '../../support/redis';

const TOLERANCE_SECONDS = 30;
const zendeskTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A hostile caller holding one captured, genuinely signed request, and no secret. */
describe('Captured webhooks cannot be replayed into a second session key', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let servicenow: FakeServiceNow;
  let sut: RunningApp;
  let queue: Queue;

  beforeAll(async () => {
    [appliance, zendesk, servicenow] = await Promise.all([
      new FakeAppliance().start(),
      new FakeZendesk().start(),
      new FakeServiceNow().start(),
    ]);
    sut = await startApp({
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
      ...servicenowEnv(servicenow),
      RSB_WEBHOOK_TOLERANCE_SECONDS: String(TOLERANCE_SECONDS),
    });
    queue = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix: sut.prefix });
  });
  afterAll(async () => {
    await queue.close();
    await sut.close();
    await Promise.all([appliance.stop(), zendesk.stop(), servicenow.stop()]);
  });

  const keysFor = (field: string, value: string) =>
    appliance.requests.filter((r) => r.params.action === 'generate_session_key' && r.params[field] === value);
  const aliasKeys = async () => {
    const redis = new Redis(REDIS_URL);
    try {
      return (await redis.keys(`${sut.prefix}:delivery-alias:*`)).length;
    } finally {
      redis.disconnect();
    }
  };
  const jobsOf = async (ids: string[]) => (await Promise.all([...new Set(ids)].map((id) => queue.getJob(id)))).filter(Boolean);

  describe('Zendesk', () => {
    const trigger = (id: string) => ({
      action: 'session.requested',
      ticket: { id, subject: 'VPN down', requester: { email: 'casey@example.com' } },
    });

    it('makes one key and one public reply from a delivery re-sent six times with fresh invocation ids', async () => {
      const ticket = zendesk.createTicket('7001');
      const aliasesBefore = await aliasKeys();
      const captured = zendesk.webhookRequest(trigger('7001'), { invocationId: 'inv-genuine' });
      const answers: string[] = [];
      for (let i = 0; i < 6; i += 1) {
        const headers = { ...captured.headers, 'x-zendesk-webhook-invocation-id': i === 0 ? 'inv-genuine' : `inv-forged-${i}` };
        const res = await fetch(`${sut.url}/webhooks/zendesk`, { method: 'POST', headers, body: captured.body });
        expect(res.status).toBe(202);
        answers.push((await json(res)).jobId as string);
      }
      expect(new Set(answers).size).toBe(1);
      expect(await jobsOf(answers)).toHaveLength(1);
      // The made-up invocation ids left nothing behind: a flood of them cannot fill Redis.
      expect(await aliasKeys()).toBe(aliasesBefore + 1);
      // One update: the reply with the key (its note waits for the session's note).
      await until(async () => ticket.comments.length === 1, 15_000, 'the key on the ticket');
      await until(async () => (await queue.getJobState(answers[0])) === 'completed', 15_000, 'the job to finish');
      expect(keysFor('session.custom.external_key', '7001')).toHaveLength(1);
      expect(ticket.comments.filter((c) => c.public)).toHaveLength(1);
    });

    it('treats a retry Zendesk signed anew (same invocation id, new timestamp) as the same delivery', async () => {
      const ticket = zendesk.createTicket('7002');
      const first = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, trigger('7002'), {
        invocationId: 'inv-7002',
        timestamp: zendeskTime(Date.now() - 2000),
      });
      const retry = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, trigger('7002'), { invocationId: 'inv-7002' });
      expect((await json(retry)).jobId).toBe((await json(first)).jobId);
      await until(async () => ticket.comments.length === 1, 15_000, 'the key on the ticket');
      await new Promise((r) => setTimeout(r, 300));
      expect(ticket.comments).toHaveLength(1);
      expect(keysFor('session.custom.external_key', '7002')).toHaveLength(1);
    });

    it('still makes a second key for a second genuine request on the same ticket', async () => {
      const ticket = zendesk.createTicket('7003');
      const a = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, trigger('7003'), { timestamp: zendeskTime(Date.now() - 2000) });
      const b = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, trigger('7003'));
      expect((await json(a)).jobId).not.toBe((await json(b)).jobId);
      await until(async () => ticket.comments.length === 2, 15_000, 'both keys on the ticket');
      expect(keysFor('session.custom.external_key', '7003')).toHaveLength(2);
    });
  });

  describe('ServiceNow', () => {
    it('accepts the documented signed timestamp and refuses the same signed request once it is older than the tolerance', async () => {
      const incident = servicenow.createRecord('INC0070001');
      const fresh = await servicenow.sendBusinessRule(`${sut.url}/webhooks/servicenow`, incident, {}, 'signed');
      expect(fresh.status).toBe(202);
      await until(async () => incident.work_notes.length === 1, 15_000, 'the work note');

      // The same record, captured earlier: signed correctly, but outside the window.
      const before = Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
      const captured = servicenow.businessRuleRequest(incident, {}, { signedAt: Math.floor(Date.now() / 1000) - TOLERANCE_SECONDS - 5 });
      const replay = await fetch(`${sut.url}/webhooks/servicenow`, { method: 'POST', headers: captured.headers, body: captured.body });
      expect(replay.status).toBe(401);
      expect((await json(replay)).error.code).toBe('stale_timestamp');
      expect(Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0)).toBe(before);
      expect(keysFor('session.custom.external_key', 'INC0070001')).toHaveLength(1);
    });

    it('refuses a timestamp the signature does not cover', async () => {
      const incident = servicenow.createRecord('INC0070002');
      const signed = servicenow.businessRuleRequest(incident, {}, 'signed');
      const moved = { ...signed.headers, 'x-rsb-timestamp': String(Number(signed.headers['x-rsb-timestamp']) + 1) };
      const res = await fetch(`${sut.url}/webhooks/servicenow`, { method: 'POST', headers: moved, body: signed.body });
      expect(res.status).toBe(401);
      expect((await json(res)).error.code).toBe('invalid_signature');
    });

    it('makes one key from a signed request replayed within the window', async () => {
      const incident = servicenow.createRecord('INC0070003');
      const captured = servicenow.businessRuleRequest(incident, {}, 'signed');
      const ids: string[] = [];
      for (let i = 0; i < 4; i += 1) {
        const res = await fetch(`${sut.url}/webhooks/servicenow`, { method: 'POST', headers: captured.headers, body: captured.body });
        expect(res.status).toBe(202);
        ids.push((await json(res)).jobId as string);
      }
      expect(new Set(ids).size).toBe(1);
      await until(async () => incident.work_notes.length === 1, 15_000, 'the work note');
      expect(keysFor('session.custom.external_key', 'INC0070003')).toHaveLength(1);
      expect(incident.comments).toHaveLength(1);
    });
  });
});
