import { Queue } from 'bullmq';
import { QUEUES } from '../../../src/jobs/queues';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp } from '../../support/app';
import { until } from '../../support/child';
import { FakeBridge, startFakeBridge } from '../../support/fake-bridge';

/**
 * Issue 23, keys first: a burst of tickets against a Zendesk whose write budget is nearly spent. The keys
 * are made at the appliance's pace while the write-backs drain at Zendesk's; before keys and writes were
 * split, each event's slot waited on the pacer and the tickets behind it waited for a slot.
 */
describe('Keys first: keys keep coming while the Zendesk write-backs are throttled', () => {
  const TICKETS = 20;
  const BUDGET = 4;
  let bridge: FakeBridge;
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let events: Queue;
  let writes: Queue;

  beforeAll(async () => {
    bridge = await startFakeBridge(
      {
        ZENDESK_RATE_LIMIT_PER_MINUTE: String(BUDGET),
        // Few slots on both sides: a slot held by a paced write would hold the keys behind it.
        RSB_TICKET_EVENTS_CONCURRENCY: '2',
        RSB_TICKET_WRITES_CONCURRENCY: '2',
        RSB_SHUTDOWN_TIMEOUT_MS: '1000',
        // The poll on (its default), as deployed: the key's internal note then waits for the session's note,
        // so each write-back is one Zendesk update, the public reply.
        BT_POLL_INTERVAL_SECONDS: '60',
      },
      { events: false },
    );
    ({ appliance, zendesk, sut } = bridge);
    zendesk.updateTicketLimitPerMinute = BUDGET;
    events = bridge.queue(QUEUES.ticketEvents);
    writes = bridge.queue(QUEUES.ticketWrites);
  });
  afterAll(() => bridge?.stop());

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
