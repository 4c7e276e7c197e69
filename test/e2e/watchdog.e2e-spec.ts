import { Queue } from 'bullmq';
import { freePort, spawnTs, until } from '../support/child';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { SPIN_QUEUE, WEDGE_QUEUE } from './fixtures/stuck-worker.module';

const connection = { url: REDIS_URL };

describe('the worker watchdog', () => {
  let prefix: string;

  beforeEach(() => {
    prefix = uniquePrefix('dog');
  });
  afterEach(async () => {
    await deleteKeys(prefix);
  });

  const startWorker = async (env: Record<string, string>) => {
    const port = await freePort();
    const child = spawnTs('test/e2e/fixtures/stuck-worker.main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      RSB_ROLE: 'worker',
      REDIS_URL,
      RSB_REDIS_PREFIX: prefix,
      ...env,
    });
    await child.waitForOutput(/listening on/, 60_000);
    return { child, health: `http://127.0.0.1:${port}/healthz` };
  };

  it('stops a worker whose event loop is stuck in a microtask loop, with code 70 and where it was stuck', async () => {
    const { child, health } = await startWorker({ RSB_WATCHDOG_BLOCKED_SECONDS: '2' });
    const queue = new Queue(SPIN_QUEUE, { connection, prefix });
    try {
      await queue.add('spin', { spin: true });
      await until(
        () =>
          fetch(health, { signal: AbortSignal.timeout(500) }).then(
            () => false,
            () => true,
          ),
        20_000,
        'the event loop to be stuck (no answer on /healthz)',
      );
      const stuckAt = Date.now();
      const { code } = await child.exited;
      expect(code).toBe(70);
      expect(Date.now() - stuckAt).toBeLessThan(10_000);
      expect(child.stdout()).toMatch(/event loop blocked for \d+ ms \(RSB_WATCHDOG_BLOCKED_SECONDS is 2\); exiting with code 70/);
      expect(child.stdout()).toMatch(/the main thread is busy in: Error: blocked here[^"]*spinInMicrotasks/);
    } finally {
      child.process.kill('SIGKILL');
      await child.exited;
      await queue.close();
    }
  });

  it('stops a worker whose consumer takes no job while jobs wait and Redis answers; a fresh one takes them', async () => {
    const { child, health } = await startWorker({ RSB_WATCHDOG_STALL_SECONDS: '2', RSB_SHUTDOWN_TIMEOUT_MS: '2000' });
    const queue = new Queue(WEDGE_QUEUE, { connection, prefix });
    try {
      const wedge = await queue.add('wedge', { wedge: true });
      await until(async () => (await queue.getJobState(wedge.id!)) === 'completed', 20_000, 'the wedging job');
      const waiting = await queue.addBulk([1, 2, 3].map((n) => ({ name: 'work', data: { n } })));
      // Stuck, yet alive: the probe answers, so only the watchdog can tell.
      expect((await fetch(health)).status).toBe(200);

      const { code } = await child.exited;
      expect(code).toBe(70);
      expect(child.stdout()).toMatch(
        /the consumer of queue wedge-test has taken no job for \d+ s while 3 wait, with 1 of 1 slots free and Redis answering/,
      );
      expect(await queue.getWaitingCount()).toBe(3);

      const next = await startWorker({});
      try {
        for (const job of waiting)
          await until(async () => (await queue.getJobState(job.id!)) === 'completed', 20_000, 'the restarted worker');
      } finally {
        next.child.process.kill('SIGTERM');
        await next.child.exited;
      }
    } finally {
      child.process.kill('SIGKILL');
      await child.exited;
      await queue.close();
    }
  });

  it('leaves alone a worker that is busy, or idle between jobs', async () => {
    const { child } = await startWorker({ RSB_WATCHDOG_STALL_SECONDS: '1', RSB_WATCHDOG_BLOCKED_SECONDS: '1' });
    const queue = new Queue(WEDGE_QUEUE, { connection, prefix });
    try {
      // Its one slot taken by a 4 s job while two more wait: busy, not stuck.
      await queue.addBulk([{ name: 'long', data: { ms: 4_000 } }, ...[1, 2].map((n) => ({ name: 'work', data: { n } }))]);
      await until(async () => (await queue.getCompletedCount()) === 3, 20_000, 'the first jobs');
      // Jobs arriving now and then, taken as they come, with idle time in between.
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 1_500));
        await queue.add('work', { n: i });
      }
      await until(async () => (await queue.getCompletedCount()) === 7, 20_000, 'the later jobs');
      expect(child.process.exitCode).toBeNull();
      expect(child.stdout()).not.toMatch(/Watchdog/);
    } finally {
      child.process.kill('SIGTERM');
      await child.exited;
      await queue.close();
    }
  });
});
