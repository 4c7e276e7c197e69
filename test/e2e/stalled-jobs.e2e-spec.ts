import { Job, Queue } from 'bullmq';
import { jobIds, QUEUES } from '../../src/jobs/queues';
import { TrackedWorker } from '../../src/lifecycle/tracked-worker';
import { SessionEndProcessor } from '../../src/session-end/session-end.processors';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { RunningApp } from '../support/app';
import { until } from '../support/child';
import { FakeBridge, startFakeBridge } from '../support/fake-bridge';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';

/**
 * Issue 20's soak lost a session-end note: the pull's worker was kill -9'd, the job went back to wait, the
 * next worker was killed too, and BullMQ (maxStalledCount 1 by default) failed the job for good after one
 * attempt, "job stalled more than allowable limit". Every processor's worker is a TrackedWorker; here its
 * workers die under a job twice (force-closed mid-job: the lock stops being renewed, as in a kill) and the
 * third still runs it.
 */
describe('a job whose workers die under it', () => {
  const prefix = uniquePrefix('stalled');
  const connection = { url: REDIS_URL };
  const queue = new Queue('stalled-test', { connection, prefix });
  const workers: TrackedWorker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
    await queue.close();
    await deleteKeys(prefix);
  });

  const worker = (processor: (job: Job) => Promise<unknown>): TrackedWorker => {
    // Short locks so a dead worker's job is found stalled in seconds, not the production half minute.
    const w = new TrackedWorker(queue.name, processor, { connection, prefix, lockDuration: 1_000, stalledInterval: 300 });
    w.on('error', () => undefined);
    workers.push(w);
    return w;
  };

  it('is run again after its second dead worker, and completes (not failed as stalled)', async () => {
    const job = await queue.add('pull', { lsid: 'abc' }, { attempts: 3 });
    const starts: number[] = [];
    for (let death = 1; death <= 2; death++) {
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const dying = worker(() => {
        starts.push(death);
        started();
        return new Promise(() => undefined); // never finishes: its worker dies first
      });
      await running;
      await dying.close(true);
    }
    const done: string[] = [];
    worker(async (j) => {
      done.push(j.id!);
      return 'ok';
    });
    await until(async () => ['completed', 'failed'].includes(await queue.getJobState(job.id!)), 20_000);
    const final = await queue.getJob(job.id!);
    expect({ starts, done, state: await final!.getState(), failedReason: final!.failedReason || undefined }).toEqual({
      starts: [1, 2],
      done: [job.id],
      state: 'completed',
      failedReason: undefined,
    });
  }, 40_000);
});

/**
 * A job whose workers keep dying fails for good after MAX_STALLED_COUNT deaths, without its processor being
 * run again (BullMQ fails it as "job stalled more than allowable limit" when a worker next takes it), so the
 * processor's give-up handling has to run there too: a session end that never reached its ticket says so
 * on the ticket, once, and counts and logs as given up like any other.
 */
describe('a session end whose workers died more often than allowed', () => {
  let bridge: FakeBridge;
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  const dying: TrackedWorker[] = [];

  beforeAll(async () => {
    bridge = await startFakeBridge({ BT_EVENTS_ALLOWED_IPS: '127.0.0.1,::1' });
    ({ appliance, zendesk, sut } = bridge);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(dying.map((w) => w.close(true).catch(() => undefined)));
    await bridge?.stop();
  });

  it('puts the failure note on the ticket once, and counts the job as given up', async () => {
    const ticket = zendesk.createTicket('6101');
    expect(
      (
        await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, {
          action: 'session.requested',
          ticket: { id: '6101', subject: 'Printer on fire', requester: { name: 'Casey Customer', email: 'casey@example.com' } },
        })
      ).status,
    ).toBe(202);
    await until(async () => ticket.comments.length === 2, 20_000, 'the key on the ticket');

    // The bridge's own session-end worker stands aside while a worker of the test's takes the pull and dies.
    const worker = sut.app.get(SessionEndProcessor).worker as TrackedWorker;
    await worker.pause();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const doomed = new TrackedWorker(
      QUEUES.sessionEnd,
      () => {
        started();
        return new Promise(() => undefined); // never finishes: its worker dies first
      },
      { connection: { url: REDIS_URL }, prefix: sut.prefix, lockDuration: 1_000, skipStalledCheck: true },
    );
    doomed.on('error', () => undefined);
    dying.push(doomed);
    const session = appliance.playSession('6101');
    await running;
    await doomed.close(true);

    // That death is one more than this worker allows (20 in production; 0 here, so that one death will do).
    worker.opts.maxStalledCount = 0;
    worker.opts.stalledInterval = 300;
    await worker.resume();

    const jobId = jobIds.sessionEnd({ lsid: session.lsid, trigger: 'event' });
    const queue = bridge.queue(QUEUES.sessionEnd);
    await until(async () => (await queue.getJobState(jobId)) === 'failed', 20_000, 'the pull to fail as stalled');
    expect((await queue.getJob(jobId))!.failedReason).toBe('job stalled more than allowable limit');
    const { logs } = await queue.getJobLogs(jobId);
    expect(logs.filter((line) => /failed for good: job stalled more than allowable limit/.test(line))).toHaveLength(1);
    const failureNotes = () => ticket.comments.filter((c) => /could not write remote support session/.test(c.body));
    await until(async () => failureNotes().length > 0, 10_000, 'the failure note on the ticket');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(ticket.comments).toHaveLength(3);
    expect(failureNotes()).toHaveLength(1);
    expect(failureNotes()[0]).toMatchObject({ public: false });
    expect(failureNotes()[0].body).toContain(session.lsid);
    expect(failureNotes()[0].body).toContain('job stalled more than allowable limit');
    expect(failureNotes()[0].body).toContain(`/api/v1/sessions/${session.lsid}/resync`);

    const metrics = await (await fetch(`${sut.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^rsb_jobs_total\\{queue="${QUEUES.sessionEnd}",outcome="exhausted"\\} 1$`, 'm'));
  }, 60_000);
});
