import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { REDIS_URL } from '../test/support/redis';

/** Every benchmark prints its figures and writes them, with the machine, to bench/results/<name>.json. */
export function report(name: string, figures: Record<string, unknown>): void {
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const result = { name, date: new Date().toISOString(), machine, figures };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

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
