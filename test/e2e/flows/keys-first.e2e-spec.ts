import { Queue } from 'bullmq';
import { QUEUES } from '../../../src/jobs/queues';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp } from '../../support/app';
import { until } from '../../support/child';
import { FakeBridge, startFakeBridge } from '../../support/fake-bridge';
import { RedisService } from '../../../src/redis/redis.service';

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

/**
 * A key's internal note written apart from its reply (Zendesk with the poll off: nothing would bring a
 * deferred note) is a ticket-writes job of its own, in the pacer's batch lane and behind every waiting
 * reply. When the note was written by the reply's job, the job held its slot while the note waited for
 * budget, and a burst's replies went at half Zendesk's rate.
 */
describe('Keys first: a burst’s replies spend the write budget before any key note', () => {
  const TICKETS = 6;
  let bridge: FakeBridge;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let writes: Queue;

  beforeAll(async () => {
    bridge = await startFakeBridge(
      {
        ZENDESK_RATE_LIMIT_PER_MINUTE: String(TICKETS),
        BT_POLL_INTERVAL_SECONDS: '0',
        RSB_TICKET_WRITES_CONCURRENCY: '2',
        RSB_SHUTDOWN_TIMEOUT_MS: '1000',
      },
      { events: false },
    );
    ({ zendesk, sut } = bridge);
    // A minute's budget holds the burst's replies and nothing more.
    zendesk.updateTicketLimitPerMinute = TICKETS;
    writes = bridge.queue(QUEUES.ticketWrites);
  });
  afterAll(() => bridge?.stop());

  it(`writes all ${TICKETS} replies in the minute's budget while the notes wait, then each note once`, async () => {
    const tickets = Array.from({ length: TICKETS }, (_, i) => zendesk.createTicket(String(800 + i)));
    // The burst's write-backs are all queued before any runs, as under a real burst's backlog.
    await writes.pause();
    const eventJobIds: string[] = [];
    for (const t of tickets) {
      const res = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, {
        action: 'session.requested',
        ticket: { id: t.id, subject: 'VPN down' },
      });
      eventJobIds.push(((await res.json()) as { jobId: string }).jobId);
    }
    await until(async () => (await writes.getJobCounts('waiting')).waiting === TICKETS, 15_000, 'every write-back queued');
    await writes.resume();

    const replied = () => tickets.filter((t) => t.comments.some((c) => c.public)).length;
    await until(async () => replied() === TICKETS, 15_000, 'every reply within the budget');
    // The budget is spent: the notes wait in their own jobs, and hold no reply's slot.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const t of tickets) expect(t.comments.map((c) => c.public)).toEqual([true]);
    const notes = await writes.getJobs(['active', 'waiting', 'prioritized', 'delayed']);
    // One note job a delivery (jobIds.ticketWriteNote: `note-` and the event's job id).
    expect(notes.map((j) => j.id).sort()).toEqual(eventJobIds.map((id) => `note-${id}`).sort());
    expect(zendesk.updateTicketThrottled).toBe(0);

    // The minute passes (its count forgotten, here and at Zendesk): each note lands, once.
    zendesk.updateTicketLimitPerMinute = 100;
    await sut.app.get(RedisService).connection.del(`${sut.app.get(RedisService).key('tickets', 'rate', new URL(zendesk.url).host)}:s`);
    await until(async () => tickets.every((t) => t.comments.length === 2), 15_000, 'every key note');
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const t of tickets) {
      expect(t.comments.map((c) => c.public)).toEqual([true, false]);
      const shortKey = /\b(\d{7})\b/.exec(t.comments[0].body)?.[1];
      expect(t.comments[1].body).toContain(`Remote support session key ${shortKey} created for queue`);
    }
  }, 60_000);
});
