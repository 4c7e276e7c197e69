/**
 * Signed Zendesk webhooks into the real app (api role, real Redis), side by side with a bare Fastify
 * handler doing the same enqueue, in the same run. Two phases for each server:
 * - constant arrival rate (RATE req/s): p50/p99 of the 202 and any non-2xx;
 * - saturation (as fast as CONNECTIONS connections go): throughput; the ratio app/bare is the figure
 *   (target >= 0.7).
 * Run: npm run bench:webhooks -- [rate] [seconds] (the app runs from dist/, as in the container image;
 * BENCH_APP_ENTRY=src/main.ts runs it under ts-node instead).
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../test/support/redis';
import { report } from './lib';

const RATE = Number(process.argv[2] ?? 300);
const SECONDS = Number(process.argv[3] ?? 15);
const CONNECTIONS = 20;
const SECRET = 'bench-zendesk-secret-0123456789';
const ROOT = join(__dirname, '..');

async function start(entry: string, env: Record<string, string> & { PORT: string }): Promise<ChildProcess> {
  const args = entry.endsWith('.js') ? [join(ROOT, entry)] : ['-r', 'ts-node/register/transpile-only', join(ROOT, entry)];
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

async function load(url: string, rate?: number) {
  let n = 0;
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
  return {
    requestsPerSecond: Number(result.requests.average.toFixed(1)),
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
  const app = await start(process.env.BENCH_APP_ENTRY ?? 'src/main.ts', {
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
    // Warm-up, then alternate the servers so neither gets the quieter half of the run.
    await load('http://127.0.0.1:3201', RATE);
    await load('http://127.0.0.1:3202', RATE);
    const appRate = await load('http://127.0.0.1:3201', RATE);
    const bareRate = await load('http://127.0.0.1:3202', RATE);
    const appMax = await load('http://127.0.0.1:3201');
    const bareMax = await load('http://127.0.0.1:3202');
    report('webhook-throughput', {
      secondsPerPhase: SECONDS,
      connections: CONNECTIONS,
      constantRate: { arrivalPerSecond: RATE, app: appRate, bare: bareRate, p99Ratio: Number((bareRate.p99Ms / appRate.p99Ms).toFixed(2)) },
      saturation: {
        app: appMax,
        bare: bareMax,
        throughputRatio: Number((appMax.requestsPerSecond / bareMax.requestsPerSecond).toFixed(3)),
      },
      target: 'throughputRatio >= 0.7, non2xx = 0',
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
