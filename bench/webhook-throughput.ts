/**
 * Signed Zendesk webhooks into the real app (api role, real Redis), side by side with two baselines in
 * the same run (bench/workers/bare-enqueue-server.ts):
 * - bare: a Fastify handler doing the same enqueue and nothing else (the baseline);
 * - checked: the same handler plus the checks issue 4 requires (signature, class-validator DTO,
 *   normalisation), run by the app's own compiled functions, without NestJS, hooks, logs or metrics.
 * Two phases:
 * - constant arrival rate (RATE req/s), each server once: p50/p99 of the 202 and any non-2xx;
 * - saturation (as fast as CONNECTIONS connections go), ROUNDS rounds rotating which server goes first:
 *   throughput and the server's own CPU time per request (/proc). The figure is the median over the
 *   rounds of app/bare throughput (target >= 0.7); checked/bare is the ceiling any implementation that
 *   keeps the required checks can reach on this machine, and app/checked what the framework, access log
 *   and metrics cost. CPU-time ratios say the same without the load generator, which shares the cores.
 * All servers run compiled JavaScript: the app from dist/ as in the container image, the baselines
 * transpiled here (ts-node would load node:domain into them, which slows every EventEmitter).
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
const BASELINE = 'bench/workers/bare-enqueue-server.ts';

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

type Measurement = Awaited<ReturnType<typeof load>>;
const SERVERS = ['app', 'checked', 'bare'] as const;
type ServerName = (typeof SERVERS)[number];
const RATIOS = ['throughputRatio', 'cpuRatio', 'ceilingRatio', 'ceilingCpuRatio', 'appToCheckedRatio'] as const;
type Round = Record<ServerName, Measurement> & Record<(typeof RATIOS)[number], number>;

const ratio = (a: number, b: number) => Number((a / b).toFixed(3));

function roundOf(results: Record<ServerName, Measurement>): Round {
  const { app, checked, bare } = results;
  return {
    ...results,
    throughputRatio: ratio(app.requestsPerSecond, bare.requestsPerSecond),
    cpuRatio: ratio(bare.cpuMsPerRequest, app.cpuMsPerRequest),
    ceilingRatio: ratio(checked.requestsPerSecond, bare.requestsPerSecond),
    ceilingCpuRatio: ratio(bare.cpuMsPerRequest, checked.cpuMsPerRequest),
    appToCheckedRatio: ratio(app.requestsPerSecond, checked.requestsPerSecond),
  };
}

async function main(): Promise<void> {
  const prefixes = { app: uniquePrefix('bench-app'), checked: uniquePrefix('bench-checked'), bare: uniquePrefix('bench-bare') };
  const servers = {} as Record<ServerName, { child: ChildProcess; url: string }>;
  try {
    servers.app = {
      child: await start('dist/main.js', {
        PORT: '3201',
        HOST: '127.0.0.1',
        RSB_ROLE: 'api',
        RSB_REDIS_PREFIX: prefixes.app,
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
        ZENDESK_BASE_URL: 'http://127.0.0.1:9',
        ZENDESK_EMAIL: 'bench@example.com',
        ZENDESK_API_TOKEN: 'bench-token',
        ZENDESK_WEBHOOK_SECRET: SECRET,
        // All the load comes from one address: the flood guard runs (its cost is measured) but never refuses.
        RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000000',
      }),
      url: 'http://127.0.0.1:3201',
    };
    servers.checked = {
      child: await start(BASELINE, { PORT: '3203', PREFIX: prefixes.checked, CHECKS: '1', ZENDESK_WEBHOOK_SECRET: SECRET }),
      url: 'http://127.0.0.1:3203',
    };
    servers.bare = { child: await start(BASELINE, { PORT: '3202', PREFIX: prefixes.bare }), url: 'http://127.0.0.1:3202' };
    const measure = (which: ServerName, rate?: number) => load(servers[which].child, servers[which].url, rate);
    // Warm-up (JIT, connections), then the constant rate, then saturation rounds.
    for (const which of SERVERS) await measure(which, RATE);
    const constant = {} as Record<ServerName, Measurement>;
    for (const which of SERVERS) constant[which] = await measure(which, RATE);
    const rounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Rotate the order so no server always gets the quieter part of a round.
      const results = {} as Record<ServerName, Measurement>;
      for (let i = 0; i < SERVERS.length; i += 1) {
        const which = SERVERS[(round + i) % SERVERS.length];
        results[which] = await measure(which);
      }
      rounds.push(roundOf(results));
    }
    const medians = Object.fromEntries(
      RATIOS.map((key) => [`median${key[0].toUpperCase()}${key.slice(1)}`, median(rounds.map((r) => r[key]))]),
    );
    const measurements = [...Object.values(constant), ...rounds.flatMap((r) => SERVERS.map((which) => r[which]))];
    report('webhook-throughput', {
      secondsPerPhase: SECONDS,
      connections: CONNECTIONS,
      constantRate: { arrivalPerSecond: RATE, ...constant, p99Ratio: ratio(constant.bare.p99Ms, constant.app.p99Ms) },
      saturation: { rounds, ...medians },
      non2xxValid: measurements.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
      target: 'medianThroughputRatio >= 0.7, non2xxValid = 0',
    });
  } finally {
    for (const { child } of Object.values(servers)) child.kill('SIGTERM');
    for (const prefix of Object.values(prefixes)) await deleteKeys(prefix);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
