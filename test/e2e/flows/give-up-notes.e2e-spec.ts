import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { RedisService } from '../../../src/redis/redis.service';
import { jobIds, QUEUES } from '../../../src/jobs/queues';
import { KeyExpiryService } from '../../../src/session-end/key-expiry.service';
import { SessionEndQueue } from '../../../src/session-end/session-end.queue';
import { LinkStore } from '../../../src/sessions/link.store';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeUpscope } from '../../fakes/upscope/fake-upscope';
import { FakeComment, FakeTicket, FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp } from '../../support/app';
import { until } from '../../support/child';
import { FakeBridge, startFakeBridge } from '../../support/fake-bridge';
import { REDIS_URL } from '../../support/redis';

/** Two quick attempts instead of a day's worth, so a give-up comes in seconds. */
const QUICK_RETRY = { jobRetry: { attempts: 2, backoff: { type: 'fixed', delay: 200 } } };

/** Waits for the job to fail for good, then retries it from the failed set and waits for it to fail again. */
async function failTwice(queue: Queue, jobId: string): Promise<void> {
  await until(async () => (await queue.getJobState(jobId)) === 'failed', 30_000, `${jobId} to fail for good`);
  // An operator's retry that fails again runs the give-up again: the note must not come twice.
  await (await queue.getJob(jobId))!.retry();
  await until(async () => (await queue.getJobState(jobId)) !== 'failed', 5_000, `${jobId} to be retried`);
  await until(async () => (await queue.getJobState(jobId)) === 'failed', 30_000, `${jobId} to fail for good again`);
}

/**
 * The house rule: every failure is logged and, where the ticket is known, lands on it. A ticket event
 * whose retries run out (the appliance down all along) leaves one internal note on its ticket saying
 * what could not be done and why, however often its give-up runs.
 */
describe('A ticket event that fails for good says so on its ticket, once', () => {
  let bridge: FakeBridge;
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let upscope: FakeUpscope;
  let events: Queue;

  beforeAll(async () => {
    bridge = await startFakeBridge({}, { events: false, upscope: true, config: QUICK_RETRY });
    ({ appliance, zendesk, sut, upscope } = bridge);
    events = bridge.queue(QUEUES.ticketEvents);
  });
  afterAll(() => bridge?.stop());

  /** Sends the ticket's request, whose event fails for good twice: the ticket's one comment is an internal note saying why. */
  async function theGiveUpNote(ticket: FakeTicket, payload: Record<string, unknown>): Promise<FakeComment> {
    const res = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, payload);
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    await failTwice(events, jobId);
    await until(async () => ticket.comments.length > 0, 10_000, 'the give-up note');
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(ticket.comments).toHaveLength(1);
    const [note] = ticket.comments;
    expect(note.public).toBe(false);
    expect(note.body).toMatch(/503/);
    return note;
  }

  /**
   * A run whose lock was lost (its lease lapsed: the event loop blocked, Redis away) while another worker
   * may have taken the event stops before its next write instead of writing beside it. Here the lock is
   * taken from it while the appliance is slow to make the key: the run stops after recording the key, and
   * the retry writes it to the ticket, once.
   */
  it('a run that lost its lock stops before its next write; the retry finishes the work once', async () => {
    const ticket = zendesk.createTicket('7001');
    // A first key, so the token is cached and the next API request is generate_session_key itself.
    zendesk.createTicket('7000');
    await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, { action: 'session.requested', ticket: { id: '7000' } });
    await until(async () => zendesk.tickets.get('7000')!.comments.length === 2, 20_000, 'the first key on its ticket');

    appliance.failNext(1, 503, { delayMs: 5_000 });
    const res = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, { action: 'session.requested', ticket: { id: '7001' } });
    const { jobId } = (await res.json()) as { jobId: string };
    const lock = sut.app.get(RedisService).key('lock', `ticket-event:${jobId}`);
    const redis = new Redis(REDIS_URL);
    try {
      await until(async () => (await redis.del(lock)) === 1, 5_000, 'the run to take its lock');
    } finally {
      redis.disconnect();
    }
    await until(async () => ticket.comments.length === 2, 30_000, 'the key on the ticket');
    await new Promise((resolve) => setTimeout(resolve, 500));

    const { logs } = await events.getJobLogs(jobId);
    expect(logs).toEqual([expect.stringMatching(/attempt 1 failed, will retry: lock ticket-event:\S+ was taken over by another worker/)]);
    expect([...appliance.keys.values()].filter((k) => k.externalKey === '7001')).toHaveLength(1);
    expect(ticket.comments).toHaveLength(2);
  }, 60_000);

  it('a session key the appliance never made: one internal note with the reason, no key, nothing public', async () => {
    const ticket = zendesk.createTicket('7101');
    // Every request the appliance gets answers 503, through both attempts and their in-call retries.
    appliance.failNext(1_000, 503);
    const note = await theGiveUpNote(ticket, { action: 'session.requested', ticket: { id: '7101' } });

    expect(note.body).toContain('rs-bridge could not create a remote support session key:');
    expect(note.body).toContain('Nothing was sent to the customer.');
    expect([...appliance.keys.values()].filter((k) => k.externalKey === '7101')).toEqual([]);
  }, 90_000);

  it('a co-browse Upscope never answered: one internal note saying no watch URL was made, and why', async () => {
    const ticket = zendesk.createTicket('7301');
    upscope.addVisitor({ name: 'Casey Customer', email: 'casey@example.com' });
    upscope.failNext(1_000, 503);
    const note = await theGiveUpNote(ticket, {
      action: 'cobrowse.requested',
      ticket: { id: '7301', requester: { name: 'Casey Customer', email: 'casey@example.com' } },
    });

    expect(note.body).toContain('rs-bridge could not start the co-browse this ticket asked for:');
    expect(note.body).toContain('No watch URL was made.');
    expect(upscope.watchRequests).toEqual([]);
  }, 90_000);
});

/**
 * A recording whose transfer fails for good (the appliance refusing its download on every attempt) leaves
 * one note on the ticket naming the recording and why, with the appliance's view link, beside the
 * session's transcript note.
 */
describe('A recording transfer that fails for good says so on its ticket, once', () => {
  let bridge: FakeBridge;
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let recordings: Queue;

  beforeAll(async () => {
    // RSB_SESSION_RETRY_HOURS is an hour at least: the quick retries come from the config seam.
    bridge = await startFakeBridge({ BT_EVENTS_ALLOWED_IPS: '127.0.0.1,::1' }, { config: QUICK_RETRY });
    ({ appliance, zendesk } = bridge);
    recordings = bridge.queue(QUEUES.recordings);
  });
  afterAll(() => bridge?.stop());

  it('names the recording, the reason and the view link; the transcript note stays the only other comment', async () => {
    const ticket = zendesk.createTicket('7201');
    appliance.refuseRecordingDownloads = 1_000;
    const s = appliance.startSession({ externalKey: '7201' });
    appliance.joinRep(s.lsid, '2');
    appliance.chat(s.lsid, 'customer', 'The scanner jams on every page');
    appliance.addRecording(s.lsid, 'session', 50_000);
    appliance.endSession(s.lsid);

    const jobId = jobIds.recording(s.lsid, 'session', 0);
    await until(async () => Boolean(await recordings.getJob(jobId)), 30_000, 'the transfer job');
    expect((await recordings.getJob(jobId))!.opts.attempts).toBe(2);
    await failTwice(recordings, jobId);
    const giveUps = () => ticket.comments.filter((c) => c.body.includes('rs-bridge gave up transferring it'));
    await until(async () => giveUps().length > 0, 10_000, 'the give-up note');
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(giveUps()).toHaveLength(1);
    const [note] = giveUps();
    expect(note.public).toBe(false);
    expect(note.body).toContain(
      `The session recording of remote support session ${s.lsid} (size unknown) is not attached: rs-bridge gave up`,
    );
    expect(note.body).toContain('Recording not found');
    expect(note.body).toContain(`View it on the appliance: https://support.example.com/session_download?lsid=${s.lsid}&rec=1&view=1`);
    // The transcript note (which said the recording would follow) and the give-up note: nothing else.
    expect(ticket.comments).toHaveLength(2);
    expect(ticket.comments[0].body).toContain('The scanner jams on every page');
    expect(ticket.comments[0].attachments.some((a) => a.filename.includes('-session-0'))).toBe(false);
  }, 90_000);
});

/**
 * A session end claims the key's deferred internal note for its own note before writing it; when that
 * session end then fails for good, the key's expiry finds the claim taken and writes nothing. The give-up
 * note carries the key note instead: it reaches the ticket once, however often the give-up runs, and the
 * key's expiry adds nothing.
 */
describe('A session end that fails for good still brings the key note it claimed, once', () => {
  let bridge: FakeBridge;
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let pulls: Queue;

  beforeAll(async () => {
    bridge = await startFakeBridge({
      BT_EVENTS_ALLOWED_IPS: '127.0.0.1,::1',
      // The poll watches key expiries, which the key note's deferral needs; its ticks are left to the test.
      BT_POLL_INTERVAL_SECONDS: '3600',
    });
    ({ appliance, zendesk, sut } = bridge);
    pulls = bridge.queue(QUEUES.sessionEnd);
  });
  afterAll(() => bridge?.stop());

  it('the give-up note carries the key note; a retried give-up, a resync and the key expiry add nothing', async () => {
    const ticket = zendesk.createTicket('7401');
    await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, { action: 'session.requested', ticket: { id: '7401' } });
    await until(async () => ticket.comments.length === 1, 20_000, 'the key reply');
    const link = (await sut.app.get(LinkStore).byExternalKey('7401'))!;
    expect(link.keyNote).toContain(`Remote support session key ${link.shortKey}`);
    const keyNotes = () => ticket.comments.filter((c) => c.body.includes(`Remote support session key ${link.shortKey}`));
    expect(keyNotes()).toEqual([]);

    // Zendesk refuses the session's note for good (its transcript's upload, the note's first request).
    zendesk.failNext(1, 422);
    const s = appliance.startSession({ externalKey: '7401' });
    appliance.joinRep(s.lsid, '2');
    appliance.chat(s.lsid, 'customer', 'The screen stays black');
    appliance.endSession(s.lsid);
    const jobId = jobIds.sessionEnd({ lsid: s.lsid, trigger: 'event' });
    await until(async () => (await pulls.getJobState(jobId)) === 'failed', 30_000, 'the pull to fail for good');
    await until(async () => ticket.comments.length === 2, 10_000, 'the give-up note');

    const [, giveUp] = ticket.comments;
    expect(giveUp.public).toBe(false);
    expect(giveUp.body.startsWith(link.keyNote!.split('\n')[0])).toBe(true);
    expect(giveUp.body).toContain(`remote support session ${s.lsid}`);
    expect(keyNotes()).toHaveLength(1);

    // An operator's retry that fails again, the resync the note offers, and the key's expiry: none writes
    // the key note again.
    zendesk.failNext(1, 422);
    await (await pulls.getJob(jobId))!.retry();
    await until(async () => (await pulls.getJobState(jobId)) !== 'failed', 5_000, 'the pull to be retried');
    await until(async () => (await pulls.getJobState(jobId)) === 'failed', 30_000, 'the pull to fail for good again');
    expect(ticket.comments).toHaveLength(2);
    const resync = await sut.app.get(SessionEndQueue).add({ lsid: s.lsid, trigger: 'resync' }, String(Date.now()));
    await until(async () => (await pulls.getJobState(resync)) === 'completed', 30_000, 'the resync');
    expect(ticket.comments).toHaveLength(3);
    expect(ticket.comments[2].body).toContain('The screen stays black');
    await sut.app.get(KeyExpiryService).check(Date.parse(link.expiresAt!) + 5 * 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ticket.comments).toHaveLength(3);
    expect(keyNotes()).toHaveLength(1);
  }, 90_000);
});
