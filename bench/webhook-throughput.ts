/**
 * Signed Zendesk webhooks into the real app (api role, real Redis), side by side with a bare Fastify
 * handler doing the same enqueue, in the same run. Two phases:
 * - constant arrival rate (RATE req/s), each server once: p50/p99 of the 202 and any non-2xx;
 * - saturation (as fast as CONNECTIONS connections go), ROUNDS rounds alternating which server goes
 *   first: throughput and the server's own CPU time per request (/proc). The figure is the median over
 *   the rounds of app/bare throughput (target >= 0.7); the CPU-time ratio says the same without the load
 *   generator, which shares the two cores.
 * Both servers run compiled JavaScript: the app from dist/ as in the container image, the baseline
 * transpiled here (ts-node would load node:domain into it, which slows every EventEmitter).
 * Run: npm run bench:webhooks -- [rate] [seconds] [rounds]
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import ts from 'typescript';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../test/support/redis';
import { median, report } from './lib';

const RATE = Number(process.argv[2] ?? 300);
const SECONDS = Number(process.argv[3] ?? 15);
const ROUNDS = Number(process.argv[4] ?? 3);
const CONNECTIONS = 20;
const SECRET = 'bench-zendesk-secret-0123456789';
const ROOT = join(__dirname, '..');

async function start(entry: string, env: Record<string, string> & { PORT: string }): Promise<ChildProcess> {
  const args = entry.endsWith('.js')
    ? [join(ROOT, entry)]
    : [
        '-e',
        ts.transpileModule(readFileSync(join(ROOT, entry), 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        }).outputText,
      ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', REDIS_URL, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // Ready when the port accepts connections (a silent log level prints nothing to wait for).
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`${entry} exited ${child.exitCode}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(env.PORT), '127.0.0.1', () => (socket.end(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${entry} did not listen on ${env.PORT}`);
}

const body = (id: number) =>
  JSON.stringify({
    action: 'session.requested',
    ticket: {
      id: String(id),
      subject: 'Printer on fire',
      priority: 'high',
      tags: 'vip',
      requester: { name: 'Casey', email: 'casey@example.com' },
    },
  });

/** User + system CPU time of a process so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

let n = 0;

async function load(server: ChildProcess, url: string, rate?: number) {
  const cpuBefore = cpuMs(server.pid!);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: 'POST',
        path: '/webhooks/zendesk',
        setupRequest: (req) => {
          n += 1;
          const raw = body(n);
          const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
          return {
            ...req,
            body: raw,
            headers: {
              'content-type': 'application/json',
              'x-zendesk-webhook-invocation-id': randomUUID(),
              'x-zendesk-webhook-signature-timestamp': timestamp,
              'x-zendesk-webhook-signature': createHmac('sha256', SECRET)
                .update(timestamp + raw)
                .digest('base64'),
            },
          };
        },
      },
    ],
  });
  const cpu = cpuMs(server.pid!) - cpuBefore;
  return {
    requestsPerSecond: Number(result.requests.average.toFixed(1)),
    cpuMsPerRequest: Number((cpu / result.requests.total).toFixed(3)),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

async function main(): Promise<void> {
  const appPrefix = uniquePrefix('bench-app');
  const barePrefix = uniquePrefix('bench-bare');
  const app = await start('dist/main.js', {
    PORT: '3201',
    HOST: '127.0.0.1',
    RSB_ROLE: 'api',
    RSB_REDIS_PREFIX: appPrefix,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    ZENDESK_BASE_URL: 'http://127.0.0.1:9',
    ZENDESK_EMAIL: 'bench@example.com',
    ZENDESK_API_TOKEN: 'bench-token',
    ZENDESK_WEBHOOK_SECRET: SECRET,
  });
  const bare = await start('bench/workers/bare-enqueue-server.ts', { PORT: '3202', PREFIX: barePrefix });
  try {
    const appUrl = 'http://127.0.0.1:3201';
    const bareUrl = 'http://127.0.0.1:3202';
    // Warm-up (JIT, connections), then the constant rate, then saturation rounds.
    await load(app, appUrl, RATE);
    await load(bare, bareUrl, RATE);
    const appRate = await load(app, appUrl, RATE);
    const bareRate = await load(bare, bareUrl, RATE);
    const rounds = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Alternate the order so neither server always gets the quieter half of a round.
      const first = round % 2 === 0 ? 'app' : 'bare';
      const results: Record<string, Awaited<ReturnType<typeof load>>> = {};
      for (const which of first === 'app' ? ['app', 'bare'] : ['bare', 'app'])
        results[which] = which === 'app' ? await load(app, appUrl) : await load(bare, bareUrl);
      rounds.push({
        app: results.app,
        bare: results.bare,
        throughputRatio: Number((results.app.requestsPerSecond / results.bare.requestsPerSecond).toFixed(3)),
        cpuRatio: Number((results.bare.cpuMsPerRequest / results.app.cpuMsPerRequest).toFixed(3)),
      });
    }
    report('webhook-throughput', {
      secondsPerPhase: SECONDS,
      connections: CONNECTIONS,
      constantRate: { arrivalPerSecond: RATE, app: appRate, bare: bareRate, p99Ratio: Number((bareRate.p99Ms / appRate.p99Ms).toFixed(2)) },
      saturation: {
        rounds,
        medianThroughputRatio: median(rounds.map((r) => r.throughputRatio)),
        medianCpuRatio: median(rounds.map((r) => r.cpuRatio)),
      },
      non2xxValid: [appRate, bareRate, ...rounds.flatMap((r) => [r.app, r.bare])].reduce((sum, r) => sum + r.non2xx + r.errors, 0),
      target: 'medianThroughputRatio >= 0.7, non2xxValid = 0',
    });
  } finally {
    app.kill('SIGTERM');
    bare.kill('SIGTERM');
    await deleteKeys(appPrefix);
    await deleteKeys(barePrefix);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
