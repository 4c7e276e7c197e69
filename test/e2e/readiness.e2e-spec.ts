import { json } from '../support/http';
import { Queue } from 'bullmq';
import { RunningApp, startApp } from '../support/app';
import { until } from '../support/child';
import { REDIS_URL } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';
import { SLOW_QUEUE, SlowJobWorkerModule } from './fixtures/slow-job.module';

describe('readiness while Redis goes away and comes back', () => {
  let proxy: TcpProxy;
  let sut: RunningApp;

  beforeAll(async () => {
    const target = new URL(REDIS_URL);
    proxy = await new TcpProxy(target.hostname, Number(target.port || 6379)).start();
    sut = await startApp({ REDIS_URL: proxy.url }, { workerModules: [SlowJobWorkerModule] });
  });
  afterAll(async () => {
    await proxy.restore().catch(() => undefined);
    await sut.close();
    await proxy.stop();
  });

  it('answers 503 naming Redis at once, stays alive, and recovers when Redis returns', async () => {
    expect((await fetch(`${sut.url}/readyz`)).status).toBe(200);

    await proxy.cut();
    const started = Date.now();
    const down = await fetch(`${sut.url}/readyz`);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(down.status).toBe(503);
    const body = await json(down);
    expect(body.error).toMatchObject({ code: 'not_ready', message: 'Not ready: redis' });
    expect(body.error.details.error.redis).toMatchObject({ status: 'down', message: expect.stringMatching(/Redis does not answer/) });
    // The process lives on: liveness does not depend on Redis.
    expect((await fetch(`${sut.url}/healthz`)).status).toBe(200);

    await proxy.restore();
    await until(async () => (await fetch(`${sut.url}/readyz`)).status === 200, 15_000, 'readiness to recover');

    // The worker reconnected by itself too: a job enqueued now is processed.
    const queue = new Queue(SLOW_QUEUE, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    try {
      const job = await queue.add('slow', { ms: 1 });
      await until(async () => (await queue.getJobState(job.id!)) === 'completed', 30_000, 'the worker to process a job after the outage');
    } finally {
      await queue.close();
    }
  });
});
