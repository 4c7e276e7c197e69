import { json } from '../support/http';
import { Queue } from 'bullmq';
import { RunningApp, startApp, TEST_API_TOKEN } from '../support/app';
import { until } from '../support/child';
import { REDIS_URL } from '../support/redis';
import { SLOW_QUEUE, SlowJobWorkerModule } from './fixtures/slow-job.module';

const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };

describe.each([
  { role: 'api', servesApi: true, runsWorkers: false },
  { role: 'worker', servesApi: false, runsWorkers: true },
  { role: 'all', servesApi: true, runsWorkers: true },
])('role $role', ({ role, servesApi, runsWorkers }) => {
  let sut: RunningApp;
  let queue: Queue;

  beforeAll(async () => {
    sut = await startApp({ RSB_ROLE: role }, { workerModules: [SlowJobWorkerModule] });
    queue = new Queue(SLOW_QUEUE, { connection: { url: REDIS_URL }, prefix: sut.prefix });
  });
  afterAll(async () => {
    await queue.close();
    await sut.close();
  });

  it('always serves the probes', async () => {
    expect((await fetch(`${sut.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${sut.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await json(ready)).details.config.role).toBe(role);
  });

  it(`${servesApi ? 'serves' : 'does not serve'} the API`, async () => {
    expect((await fetch(`${sut.url}/api/v1/status`, { headers: auth })).status).toBe(servesApi ? 200 : 404);
  });

  it(`${runsWorkers ? 'runs' : 'runs no'} queue workers`, async () => {
    const job = await queue.add('slow', { ms: 1 });
    if (runsWorkers) {
      await until(async () => (await queue.getJobState(job.id!)) === 'completed', 10_000, 'the job to complete');
      expect(await queue.getWorkersCount()).toBe(1);
    } else {
      expect(await queue.getWorkersCount()).toBe(0);
      expect(await queue.getJobState(job.id!)).toBe('waiting');
    }
  });
});
