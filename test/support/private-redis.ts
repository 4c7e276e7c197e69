import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './child';

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * A redis-server of the test's own on a free port, with AOF in a temporary directory: a test may kill it
 * (-9, as a crash or an OOM kill would) and start it again on the same port with its data, without
 * touching the Redis other tests share.
 */
export class PrivateRedis {
  port = 0;
  private process?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'rsb-redis-'));

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    const server = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    this.process = server;
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (server.exitCode !== null) throw new Error(`redis-server exited (${server.exitCode}) on port ${this.port}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this;
  }

  /** SIGKILL: no shutdown, no final AOF rewrite; writes of the last second may be gone, as in a crash. */
  async kill(): Promise<void> {
    const server = this.process;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
