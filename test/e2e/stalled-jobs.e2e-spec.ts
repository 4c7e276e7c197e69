import { Job, Queue } from 'bullmq';
import { TrackedWorker } from '../../src/lifecycle/tracked-worker';
import { until } from '../support/child';
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
