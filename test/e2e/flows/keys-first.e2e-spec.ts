import { Queue } from 'bullmq';
import { QUEUES } from '../../../src/jobs/queues';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp } from '../../support/app';
import { until } from '../../support/child';
import { REDIS_URL } from '../../support/redis';

/**
 * Issue 23, keys first: a burst of tickets against a Zendesk whose write budget is nearly spent. The keys
 * are made at the appliance's pace while the write-backs drain at Zendesk's; before keys and writes were
 * split, each event's slot waited on the pacer and the tickets behind it waited for a slot.
 */
describe('Keys first: keys keep coming while the Zendesk write-backs are throttled', () => {
  const TICKETS = 20;
  const BUDGET = 4;
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let events: Queue;
  let writes: Queue;

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    zendesk.updateTicketLimitPerMinute = BUDGET;
    sut = await startApp({
      BT_SITE_URL: appliance.url,
      BT_CLIENT_ID: 'rsb-client',
      BT_CLIENT_SECRET: 'rsb-secret-0123456789',
      ZENDESK_BASE_URL: zendesk.url,
      ZENDESK_EMAIL: zendesk.email,
      ZENDESK_API_TOKEN: zendesk.apiToken,
      ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
      ZENDESK_RATE_LIMIT_PER_MINUTE: String(BUDGET),
      // Few slots on both sides: a slot held by a paced write would hold the keys behind it.
      RSB_TICKET_EVENTS_CONCURRENCY: '2',
      RSB_TICKET_WRITES_CONCURRENCY: '2',
      RSB_SHUTDOWN_TIMEOUT_MS: '1000',
    });
    events = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    writes = new Queue(QUEUES.ticketWrites, { connection: { url: REDIS_URL }, prefix: sut.prefix });
  });
  afterAll(async () => {
    await events.close();
    await writes.close();
    await sut.close();
    await zendesk.stop();
    await appliance.stop();
  });

  it(`makes all ${TICKETS} keys within seconds while Zendesk takes ${BUDGET} updates a minute`, async () => {
    const tickets = Array.from({ length: TICKETS }, (_, i) => zendesk.createTicket(String(500 + i)));
    const started = Date.now();
    for (const t of tickets)
      await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, { action: 'session.requested', ticket: { id: t.id, subject: 'VPN down' } });
    const keys = () => appliance.requests.filter((r) => r.params.action === 'generate_session_key').length;
    await until(async () => keys() === TICKETS, 15_000, 'every key at the appliance');
    const keysTook = Date.now() - started;
    await until(async () => (await events.getJobCounts('completed')).completed === TICKETS, 5_000, 'every event job done');

    // The writes wait on the budget, in their own queue: at most a minute's budget has reached Zendesk.
    const written = () => tickets.filter((t) => t.comments.length > 0).length;
    const counts = await writes.getJobCounts('waiting', 'active', 'delayed', 'completed');
    expect(keysTook).toBeLessThan(10_000);
    expect(written()).toBeLessThanOrEqual(BUDGET);
    expect(counts.waiting + counts.active + counts.delayed).toBeGreaterThanOrEqual(TICKETS - BUDGET);
    // And the budget is spent: the first writes drain, with no 429 from Zendesk.
    await until(async () => written() >= BUDGET - 1, 10_000, 'the first write-backs');
    expect(zendesk.updateTicketThrottled).toBe(0);
    for (const t of tickets.filter((x) => x.comments.length)) expect(t.comments.map((c) => c.public)).toEqual([true]);
  }, 60_000);
});
