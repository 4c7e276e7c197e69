import { Queue } from 'bullmq';
import { freePort, spawnTs, until } from '../support/child';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { SLOW_QUEUE } from './fixtures/slow-job.module';

const connection = { url: REDIS_URL };

describe('SIGTERM while a job runs', () => {
  let prefix: string;
  let queue: Queue;

  beforeEach(() => {
    prefix = uniquePrefix('stop');
    queue = new Queue(SLOW_QUEUE, { connection, prefix });
  });
  afterEach(async () => {
    await queue.close();
    await deleteKeys(prefix);
  });

  const startWorker = async (env: Record<string, string> = {}) => {
    const port = await freePort();
    const child = spawnTs('test/e2e/fixtures/slow-job.main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL,
      RSB_REDIS_PREFIX: prefix,
      ...env,
    });
    await child.waitForOutput(/listening on/);
    return { child, base: `http://127.0.0.1:${port}` };
  };

  const waitUntilActive = (jobId: string) =>
    until(
      async () => (await queue.getJobState(jobId)) === 'active' && (await queue.getJob(jobId))?.progress === 1,
      20_000,
      'the job to start',
    );

  it('stops taking HTTP requests, lets the job finish, closes cleanly and leaves nothing active', async () => {
    const { child, base } = await startWorker();
    const job = await queue.add('slow', { ms: 2_500 });
    await waitUntilActive(job.id!);

    child.process.kill('SIGTERM');
    // HTTP closes first: new connections are refused while the job is still running.
    await until(
      async () => {
        try {
          await fetch(`${base}/healthz`);
          return false;
        } catch {
          return true;
        }
      },
      5_000,
      'HTTP to stop',
    );
    expect(await queue.getJobState(job.id!)).toBe('active');

    const { code } = await child.exited;
    expect(code).toBe(0);
    expect(await queue.getJobState(job.id!)).toBe('completed');
    expect((await queue.getJob(job.id!))?.returnvalue).toEqual({ pid: child.process.pid });
    expect(await queue.getActiveCount()).toBe(0);
    expect(child.stdout()).toContain('worker(s) finished their jobs and closed');
  });

  it('gives up after RSB_SHUTDOWN_TIMEOUT_MS, and the abandoned job is finished by the next worker', async () => {
    const { child } = await startWorker({ RSB_SHUTDOWN_TIMEOUT_MS: '500' });
    const job = await queue.add('slow', { ms: 4_000 }, { attempts: 3 });
    await waitUntilActive(job.id!);

    const stoppedAt = Date.now();
    child.process.kill('SIGTERM');
    const { code } = await child.exited;
    expect(code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(3_500);
    expect(child.stdout()).toContain('Jobs still running after 500 ms');
    expect(await queue.getJobState(job.id!)).not.toBe('failed');

    const next = await startWorker();
    try {
      await until(async () => (await queue.getJobState(job.id!)) === 'completed', 30_000, 'the job to complete on the next worker');
      expect((await queue.getJob(job.id!))?.returnvalue).toEqual({ pid: next.child.process.pid });
    } finally {
      next.child.process.kill('SIGTERM');
      await next.child.exited;
    }
  });
});
