import { Queue } from 'bullmq';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { json } from '../support/http';
import { Child, freePort, spawnTs, until } from '../support/child';
import { applianceEnv } from '../support/fake-env';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';
import { SLOW_QUEUE } from './fixtures/slow-job.module';

const PASSWORD = 'redis-pw-4f7d2a9c';

const logLines = (child: Child) =>
  child
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { time: number; msg: string; context?: string });

describe('boot while Redis does not answer', () => {
  it.each(['api', 'worker', 'all'])(
    'role %s: probes come up, the log names the Redis it tries and keeps saying so, SIGTERM exits at once',
    async (role) => {
      const deadRedis = await freePort();
      const port = await freePort();
      const child = spawnTs('src/main.ts', {
        PORT: String(port),
        HOST: '127.0.0.1',
        RSB_ROLE: role,
        REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${deadRedis}`,
        RSB_API_TOKENS: 'test-token-0123456789abcdef',
        // The default drain, so that the test shows a process out of rotation need not wait for it.
        RSB_DRAIN_SECONDS: '5',
      });
      try {
        await child.waitForOutput(/listening on/, 60_000);
        const base = `http://127.0.0.1:${port}`;
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        const ready = await fetch(`${base}/readyz`);
        expect(ready.status).toBe(503);
        const body = await json(ready);
        expect(body.error).toMatchObject({ code: 'not_ready', message: 'Not ready: redis' });
        expect(body.error.details.error.redis.message).toContain(`at 127.0.0.1:${deadRedis}:`);

        // Named as soon as the application exists, before it listens; then repeated, backing off.
        const address = `Redis at 127.0.0.1:${deadRedis}`;
        const listening = logLines(child).find((l) => l.msg.includes('listening on'))!;
        const connecting = logLines(child).find((l) => l.msg === `Connecting to ${address}`);
        expect(connecting).toBeDefined();
        expect(connecting!.time).toBeLessThanOrEqual(listening.time);
        await child.waitForOutput(/does not answer \(connect ECONNREFUSED [^)]*\) for 3 s; still trying/, 10_000);
        const trying = logLines(child).filter((l) => l.msg.startsWith(`${address} does not answer`));
        expect(trying.length).toBeGreaterThanOrEqual(2);
        expect(trying[0].time - listening.time).toBeLessThan(2_000);
        expect(trying[1].time - trying[0].time).toBeGreaterThan(1_500);
        expect(child.stdout() + child.stderr()).not.toContain(PASSWORD);

        const stoppedAt = Date.now();
        child.process.kill('SIGTERM');
        expect((await child.exited).code).toBe(0);
        expect(Date.now() - stoppedAt).toBeLessThan(2_000);
      } finally {
        child.process.kill('SIGKILL');
        await child.exited;
      }
    },
  );

  it('becomes ready when Redis arrives later, and its workers and schedulers run without a restart', async () => {
    const prefix = uniquePrefix('late');
    const target = new URL(REDIS_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    proxy.port = await freePort();
    const appliance = await new FakeAppliance().start();
    const port = await freePort();
    const child = spawnTs('test/e2e/fixtures/slow-job.main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      RSB_ROLE: 'all',
      REDIS_URL: proxy.url,
      RSB_REDIS_PREFIX: prefix,
      ...applianceEnv(appliance),
      BT_POLL_INTERVAL_SECONDS: '3600',
    });
    const slow = new Queue(SLOW_QUEUE, { connection: { url: REDIS_URL }, prefix });
    const poll = new Queue('session-poll', { connection: { url: REDIS_URL }, prefix });
    try {
      await child.waitForOutput(/listening on/, 60_000);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(503);

      await proxy.start();
      await until(async () => (await fetch(`${base}/readyz`)).status === 200, 20_000, 'readiness once Redis answers');
      await child.waitForOutput(/Connected to Redis at/);

      const job = await slow.add('slow', { ms: 1 });
      await until(async () => (await slow.getJobState(job.id!)) === 'completed', 30_000, 'the worker to process a job');
      await until(async () => (await poll.getJobSchedulers()).some((s) => s.key === 'poll'), 30_000, 'the poll schedule');

      child.process.kill('SIGTERM');
      expect((await child.exited).code).toBe(0);
    } finally {
      child.process.kill('SIGKILL');
      await child.exited;
      await Promise.all([slow.close(), poll.close()]);
      await proxy.stop();
      await appliance.stop();
      await deleteKeys(prefix);
    }
  });
});
