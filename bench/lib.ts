import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/child';
import { REDIS_URL } from '../test/support/redis';

/** The machine a figure was measured on; other sessions share it, so the load average goes with it. */
export const machine = () => ({
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
});

/** Every benchmark prints its figures and writes them, with the machine, to bench/results/<name>.json. */
export function report(name: string, figures: Record<string, unknown>): void {
  const result = { name, date: new Date().toISOString(), machine: machine(), figures };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** The p-th percentile (nearest rank, rounded to the unit); NaN for no values. */
export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN);
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** rs-bridge as the container runs it (node dist/main.js: run `nest build` first), logs off stdout. */
export function spawnApp(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
    cwd: join(__dirname, '..'),
    env: {
      PATH: process.env.PATH,
      REDIS_URL,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      BT_CLIENT_ID: 'rsb-client',
      BT_CLIENT_SECRET: 'rsb-secret-0123456789',
      BT_POLL_INTERVAL_SECONDS: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export interface SpawnedBridge {
  child: ChildProcess;
  port: number;
  url: string;
}

/** spawnApp on `port` (a free one by default), resolved once /readyz answers 200; throws if it exits or is slow. */
export async function startBridge(env: Record<string, string>, port?: number, timeoutMs = 60_000): Promise<SpawnedBridge> {
  port ??= await freePort();
  const child = spawnApp({ ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + timeoutMs; ;) {
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { child, port, url };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`rs-bridge (${env.RSB_ROLE ?? 'all'}) on ${port} did not become ready`);
    }
    await sleep(100);
  }
}
