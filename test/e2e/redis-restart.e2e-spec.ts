import { Queue } from 'bullmq';
import { freePort, spawnTs, until } from '../support/child';
import { PrivateRedis } from '../support/private-redis';
import { SLOW_QUEUE } from './fixtures/slow-job.module';

const answers = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
    (res) => res.ok,
    () => false,
  );

describe('Redis killed (-9) and restarted while a worker is busy', () => {
  let redis: PrivateRedis;

  beforeEach(async () => {
    redis = await new PrivateRedis().start();
  });
  afterEach(async () => {
    await redis.stop();
  });

  it('keeps answering /healthz and goes on taking jobs without a restart', async () => {
    const port = await freePort();
    const worker = spawnTs('test/e2e/fixtures/slow-job.main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      RSB_ROLE: 'worker',
      REDIS_URL: redis.url,
      LOG_LEVEL: 'warn',
    });
    const queue = new Queue(SLOW_QUEUE, { connection: { url: redis.url, maxRetriesPerRequest: null }, prefix: 'rsb' });
    queue.on('error', () => undefined);
    try {
      // Jobs of a few hundred ms, as a real processor's calls take: the outage finds one inside the
      // processor, and it ends while Redis is away.
      await queue.addBulk(Array.from({ length: 300 }, () => ({ name: 'slow', data: { ms: 300 } })));
      await until(() => answers(`http://127.0.0.1:${port}/healthz`), 60_000, 'the worker to listen');
      await until(async () => (await queue.getCompletedCount()) >= 3, 30_000, 'the first jobs to complete');

      await redis.kill();
      await new Promise((r) => setTimeout(r, 1_500));
      await redis.start();

      // Before the fix, the worker spun at 100 % CPU from here on: no probe answered, no job was taken.
      await until(() => answers(`http://127.0.0.1:${port}/healthz`), 15_000, '/healthz after the restart');
      const before = await queue.getCompletedCount();
      await until(async () => (await queue.getCompletedCount()) >= before + 5, 20_000, 'jobs to complete after the restart');
      expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBe(true);

      worker.process.kill('SIGTERM');
      expect((await worker.exited).code).toBe(0);
    } finally {
      worker.process.kill('SIGKILL');
      await worker.exited;
      await queue.close();
    }
  });
});
