/**
 * The issue-16 stall, reproduced: a worker (the slow-job fixture in the worker role, through ts-node as
 * the e2e tests run it) under load from a producer, its private redis-server (AOF) killed with -9 and
 * started again on the same port. A run counts as stalled when, 3 s after Redis is back, the worker
 * answers no /healthz or completes fewer than 5 jobs in 5 s. Prints "N of RUNS stalled" and the worker's
 * CPU share while it is watched (a stalled worker spun at ~100 %).
 * Run: npm run bench:redis-restart -- [runs] [job ms] [seconds Redis stays down]
 */
import { Queue } from 'bullmq';
import { readFileSync } from 'node:fs';
import { freePort, spawnTs } from '../test/support/child';
import { PrivateRedis } from '../test/support/private-redis';
import { report } from './lib';

const RUNS = Number(process.argv[2] ?? 5);
const JOB_MS = Number(process.argv[3] ?? 300);
const DOWN_MS = Number(process.argv[4] ?? 1) * 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** utime + stime of a process, in clock ticks (100 a second). */
const cpuTicks = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
const answers = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
    (res) => res.ok,
    () => false,
  );

async function once(run: number): Promise<{ stalled: boolean; cpuPercent: number; completed: number }> {
  const redis = await new PrivateRedis().start();
  const port = await freePort();
  const health = `http://127.0.0.1:${port}/healthz`;
  const worker = spawnTs('test/e2e/fixtures/slow-job.main.ts', {
    PORT: String(port),
    HOST: '127.0.0.1',
    RSB_ROLE: 'worker',
    REDIS_URL: redis.url,
    LOG_LEVEL: 'warn',
    RSB_WATCHDOG_BLOCKED_SECONDS: '0',
  });
  const queue = new Queue('slow-test', { connection: { url: redis.url, maxRetriesPerRequest: null }, prefix: 'rsb' });
  queue.on('error', () => undefined);
  try {
    while (!(await answers(health))) await sleep(200);
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await queue.addBulk(Array.from({ length: 20 }, () => ({ name: 'slow', data: { ms: JOB_MS } }))).catch(() => sleep(200));
        await sleep(50);
      }
    })();
    await sleep(1_500);
    await redis.kill();
    await sleep(DOWN_MS);
    await redis.start();
    await sleep(3_000);
    producing = false;
    await producer;

    const ticks = cpuTicks(worker.process.pid!);
    const startedAt = Date.now();
    const before = await queue.getCompletedCount();
    let healthy = true;
    for (let i = 0; i < 10; i++) {
      healthy = (await answers(health)) && healthy;
      await sleep(500);
    }
    const completed = (await queue.getCompletedCount()) - before;
    const cpuPercent = Math.round(((cpuTicks(worker.process.pid!) - ticks) / 100 / ((Date.now() - startedAt) / 1000)) * 100);
    const stalled = !healthy || completed < 5;
    console.log(`run ${run}: /healthz ${healthy ? 'answers' : 'silent'}, ${completed} jobs in 5 s, CPU ${cpuPercent} %`);
    return { stalled, cpuPercent, completed };
  } finally {
    worker.process.kill('SIGKILL');
    await worker.exited;
    await queue.close().catch(() => undefined);
    await redis.stop();
  }
}

async function main(): Promise<void> {
  const runs = [];
  for (let i = 1; i <= RUNS; i++) runs.push(await once(i));
  const stalled = runs.filter((r) => r.stalled).length;
  report('redis-restart-stall', { runs: RUNS, jobMs: JOB_MS, downMs: DOWN_MS, stalled, perRun: runs });
  console.log(`${stalled} of ${RUNS} runs stalled`);
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
