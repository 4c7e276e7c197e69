import { Queue } from 'bullmq';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { startApp, TEST_API_TOKEN } from '../support/app';
import { freePort, spawnTs, until } from '../support/child';
import { applianceEnv, zendeskEnv } from '../support/fake-env';
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

describe('shutdown with a keep-alive connection whose request was in flight', () => {
  it('closes as soon as that request is answered, not at the keep-alive timeout', async () => {
    const appliance = await new FakeAppliance().start();
    const zendesk = await new FakeZendesk().start();
    zendesk.createTicket('77');
    const sut = await startApp({ ...applianceEnv(appliance), ...zendeskEnv(zendesk), BT_POLL_INTERVAL_SECONDS: '0' });
    try {
      // The appliance answers slowly, so the request is still running when shutdown begins.
      appliance.failNext(1, 503, { delayMs: 1500 });
      const answer = fetch(`${sut.url}/api/v1/tickets/zendesk/77/session-key`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ number: '77' }),
      });
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      const closing = sut.app.close();
      const res = await answer;
      expect(res.status).toBeLessThan(600);
      await res.arrayBuffer();
      await closing;
      // Fastify's keep-alive timeout is 72 s; the connection must be reaped once idle.
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await sut.close();
      await Promise.all([appliance.stop(), zendesk.stop()]);
    }
  }, 30_000);
});
