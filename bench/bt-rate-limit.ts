/**
 * Rate-limit efficiency and token economy: 3 worker processes share one API account against the fake
 * appliance (20 requests/s) with a backlog of 2,000 requests. Figures: sustained rate as a share of
 * the limit (target >= 95%), 429 answers (target 0), token requests (target 1).
 * Run: npx ts-node --transpile-only bench/bt-rate-limit.ts [requests] [processes]
 * BENCH_WARM=0 starts the processes cold (first requests race module loading), for comparison.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { FakeAppliance } from '../test/fakes/beyondtrust/fake-appliance';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../test/support/redis';
import { report } from './lib';

const REQUESTS = Number(process.argv[2] ?? 2_000);
const PROCESSES = Number(process.argv[3] ?? 3);
const PER_SECOND = 20;
const CONCURRENCY = 8;

async function main(): Promise<void> {
  const fake = await new FakeAppliance({ perSecond: PER_SECOND }).start();
  const prefix = uniquePrefix('bench');
  const backlog = `${prefix}:bench:backlog`;
  const redis = new Redis(REDIS_URL);
  for (let i = 0; i < REQUESTS; i += 1000)
    await redis.rpush(backlog, ...Array.from({ length: Math.min(1000, REQUESTS - i) }, (_, j) => String(i + j)));

  const workers = Array.from({ length: PROCESSES }, () =>
    spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'workers', 'bt-worker.ts')], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL,
        FAKE_URL: fake.url,
        CLIENT_ID: 'rsb-client',
        CLIENT_SECRET: 'rsb-secret-0123456789',
        PER_SECOND: String(PER_SECOND),
        PREFIX: prefix,
        BACKLOG: backlog,
        CONCURRENCY: String(CONCURRENCY),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  // Start together once every process is warm, as pods that have been running a while would be.
  const warm = Boolean(Number(process.env.BENCH_WARM ?? 1));
  if (warm) while (Number(await redis.get(`${prefix}:bench:ready`)) < PROCESSES) await new Promise((r) => setTimeout(r, 50));
  await redis.set(`${prefix}:bench:go`, '1');
  const outputs = await Promise.all(
    workers.map(
      (w) =>
        new Promise<{ done: number; failed: number }>((resolve, reject) => {
          let out = '';
          w.stdout!.on('data', (d: Buffer) => (out += d.toString()));
          w.on('exit', (code) =>
            code === 0
              ? resolve(JSON.parse(out.trim().split('\n').pop()!) as { done: number; failed: number })
              : reject(new Error(`worker exited ${code}`)),
          );
        }),
    ),
  );

  const first = fake.requests.find((r) => r.path === '/api/command')!.at;
  const late429 = fake.requests.filter((r) => r.status === 429).map((r) => r.at - first);
  const answered = fake.requests.filter((r) => r.path === '/api/command' && r.status === 200).map((r) => r.at);
  const seconds = (answered[answered.length - 1] - answered[0]) / 1000;
  const rate = (answered.length - 1) / seconds;
  report('bt-rate-limit', {
    processes: PROCESSES,
    warmStart: warm,
    concurrencyPerProcess: CONCURRENCY,
    backlog: REQUESTS,
    completed: outputs.reduce((n, o) => n + o.done, 0),
    failed: outputs.reduce((n, o) => n + o.failed, 0),
    perProcess: outputs.map((o) => o.done),
    limitPerSecond: PER_SECOND,
    seconds: Number(seconds.toFixed(2)),
    sustainedRatePerSecond: Number(rate.toFixed(3)),
    shareOfLimit: `${((rate / PER_SECOND) * 100).toFixed(1)}%`,
    http429: fake.rateLimited,
    http429AtMsAfterStart: late429,
    tokenRequests: fake.tokenRequests,
    targets: { shareOfLimit: '>= 95%', http429: 0, tokenRequests: 1 },
  });
  redis.disconnect();
  await deleteKeys(prefix);
  await fake.stop();
}

void main();
