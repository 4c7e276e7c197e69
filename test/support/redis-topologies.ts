import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort, until } from './child';
import { redisAnswers } from './redis-server';

/** A redis-server (or sentinel) of the test's own on a free loopback port; killed with the set. */
async function startServer(dir: string, args: string[], port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let output = '';
  server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  for (const deadline = Date.now() + 20_000; !(await redisAnswers(port));) {
    if (server.exitCode !== null || Date.now() > deadline)
      throw new Error(`redis-server ${args.join(' ')} did not answer on ${port} (exit ${server.exitCode}):\n${output.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return server;
}

const SERVER_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'];

abstract class ServerSet {
  protected readonly dir = mkdtempSync(join(tmpdir(), 'rsb-redis-set-'));
  protected readonly processes: ChildProcess[] = [];

  async stop(): Promise<void> {
    await Promise.all(
      this.processes.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  protected async server(port: number, extra: string[] = []): Promise<ChildProcess> {
    // One AOF directory a server: servers sharing a --dir would race on the AOF manifest's rename.
    const aof = ['--appenddirname', `aof-${port}`];
    const server = await startServer(this.dir, ['--port', String(port), ...SERVER_ARGS, ...aof, '--dir', this.dir, ...extra], port);
    this.processes.push(server);
    return server;
  }
}

/**
 * A Redis Cluster on loopback: masters (three by default) and, when asked, replicas of each. Slots are split
 * among the masters with CLUSTER ADDSLOTS, the nodes introduced with CLUSTER MEET and the replicas attached
 * with CLUSTER REPLICATE: what `redis-cli --cluster create` does, without needing it.
 */
export class LocalCluster extends ServerSet {
  /** The masters' ports, in the order they were given slots. */
  ports: number[] = [];
  /** replicaPorts[i] replicates ports[i]. */
  replicaPorts: number[] = [];
  private readonly busPorts = new Map<number, number>();
  private readonly byPort = new Map<number, ChildProcess>();
  private readonly argsOf = new Map<number, string[]>();

  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  /**
   * `nodeTimeoutMs` is how long a master may be silent before its replica takes over (a failover takes about
   * twice that); the default keeps a slow CI machine's pauses from being taken for deaths.
   */
  async start(masters = 3, options: { replicas?: boolean; nodeTimeoutMs?: number } = {}): Promise<this> {
    for (let i = 0; i < masters; i++) this.ports.push(await freePort());
    if (options.replicas) for (let i = 0; i < masters; i++) this.replicaPorts.push(await freePort());
    const all = [...this.ports, ...this.replicaPorts];
    // The cluster bus gets a free port of its own: the default (port + 10000) may be taken or beyond 65535.
    for (const port of all) this.busPorts.set(port, await freePort());
    await Promise.all(
      all.map(async (port) => {
        this.argsOf.set(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(this.busPorts.get(port)),
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          String(options.nodeTimeoutMs ?? 2000),
        ]);
        this.byPort.set(port, await this.server(port, this.argsOf.get(port)));
      }),
    );
    const clients = all.map((port) => new Redis({ port, host: '127.0.0.1', lazyConnect: false }));
    try {
      const per = Math.ceil(16384 / masters);
      await Promise.all(
        clients.slice(0, masters).map((client, i) => {
          const slots = Array.from({ length: Math.min(per, 16384 - i * per) }, (_, k) => i * per + k);
          return client.call('CLUSTER', 'ADDSLOTS', ...slots.map(String));
        }),
      );
      for (const port of all.slice(1)) await clients[0].call('CLUSTER', 'MEET', '127.0.0.1', String(port), String(this.busPorts.get(port)));
      await until(
        async () => {
          const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO') as Promise<string>));
          return infos.every((info) => new RegExp(`cluster_known_nodes:${all.length}\\b`).test(info));
        },
        20_000,
        'every node to know the others',
      );
      for (const [i] of this.replicaPorts.entries()) {
        const masterId = (await clients[i].call('CLUSTER', 'MYID')) as string;
        // A replica must know its master's id before it can follow it; MEET's gossip may not have told it yet.
        await until(
          async () =>
            clients[masters + i]
              .call('CLUSTER', 'REPLICATE', masterId)
              .then(() => true)
              .catch(() => false),
          10_000,
          'a replica to accept its master',
        );
      }
      await until(
        async () => {
          const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO') as Promise<string>));
          if (!infos.every((info) => /cluster_state:ok/.test(info))) return false;
          const links = await Promise.all(clients.slice(masters).map((c) => c.info('replication')));
          return links.every((info) => /master_link_status:up/.test(info));
        },
        20_000,
        'the cluster to agree on its slots and the replicas to sync',
      );
    } finally {
      clients.forEach((c) => c.disconnect());
    }
    return this;
  }

  /** The port of the master serving `slot` now, as the node at `askPort` (or the first live master) sees it. */
  async masterOf(slot: number, askPort = this.ports.find((p) => this.alive(p))!): Promise<number> {
    const client = new Redis({ port: askPort, host: '127.0.0.1' });
    try {
      const ranges = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no node serves slot ${slot}`);
      return Number(range[2][1]);
    } finally {
      client.disconnect();
    }
  }

  /**
   * A replica cut off from its master for a while, as a slow or partitioned one is: stopped (SIGSTOP), and
   * its replication link closed on the master's side, so that what the master acknowledges from now on
   * reaches no replica (a stopped process's kernel would still take in what is sent on an open link).
   */
  async cutOff(replicaPort: number, masterPort: number): Promise<void> {
    this.byPort.get(replicaPort)?.kill('SIGSTOP');
    const master = new Redis({ port: masterPort, host: '127.0.0.1' });
    try {
      await master.call('CLIENT', 'KILL', 'TYPE', 'replica');
    } finally {
      master.disconnect();
    }
  }

  resume(port: number): void {
    this.byPort.get(port)?.kill('SIGCONT');
  }

  /** kill -9 of the node on `port`: no goodbye to the cluster, its replica must notice and take over. */
  kill(port: number): void {
    this.byPort.get(port)?.kill('SIGKILL');
  }

  /**
   * Starts the node on `port` again from its nodes.conf and AOF: it rejoins the cluster, learns that its
   * replica took its slots, and becomes that replica's replica.
   */
  async restart(port: number): Promise<void> {
    this.byPort.set(port, await this.server(port, this.argsOf.get(port)));
  }

  alive(port: number): boolean {
    const p = this.byPort.get(port);
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }
}

/** One master, one replica and three sentinels watching them as `mymaster`, all on loopback. */
export class LocalSentinels extends ServerSet {
  readonly master = 'mymaster';
  masterPort = 0;
  replicaPort = 0;
  sentinelPorts: number[] = [];

  get sentinels(): string {
    return this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',');
  }

  async start(): Promise<this> {
    this.masterPort = await freePort();
    this.replicaPort = await freePort();
    await this.server(this.masterPort);
    await this.server(this.replicaPort, ['--replicaof', '127.0.0.1', String(this.masterPort)]);
    const replica = new Redis({ port: this.replicaPort, host: '127.0.0.1' });
    try {
      await until(async () => /master_link_status:up/.test(await replica.info('replication')), 10_000, 'the replica to sync');
    } finally {
      replica.disconnect();
    }
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(this.dir, `sentinel-${port}.conf`);
      // A sentinel rewrites its configuration file: each gets its own, writable.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `sentinel monitor ${this.master} 127.0.0.1 ${this.masterPort} 2`,
          `sentinel down-after-milliseconds ${this.master} 1000`,
          `sentinel failover-timeout ${this.master} 10000`,
          `sentinel parallel-syncs ${this.master} 1`,
          '',
        ].join('\n'),
      );
      this.processes.push(await startServer(this.dir, [conf, '--sentinel'], port));
      this.sentinelPorts.push(port);
    }
    // Every sentinel must know the replica (and the others) before a failover can pick it.
    await until(
      async () => {
        const counts = await Promise.all(this.sentinelPorts.map((port) => this.sentinelInfo(port)));
        return counts.every(({ replicas, sentinels }) => replicas === 1 && sentinels === 2);
      },
      20_000,
      'the sentinels to know the replica and each other',
    );
    return this;
  }

  /** SENTINEL FAILOVER: the replica is promoted, the old master becomes its replica. */
  async failover(): Promise<void> {
    const sentinel = new Redis({ port: this.sentinelPorts[0], host: '127.0.0.1' });
    try {
      await sentinel.call('SENTINEL', 'FAILOVER', this.master);
    } finally {
      sentinel.disconnect();
    }
  }

  /** host:port of the master the sentinels name now. */
  async currentMaster(): Promise<string> {
    const sentinel = new Redis({ port: this.sentinelPorts[0], host: '127.0.0.1' });
    try {
      const [host, port] = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.master)) as string[];
      return `${host}:${port}`;
    } finally {
      sentinel.disconnect();
    }
  }

  private async sentinelInfo(port: number): Promise<{ replicas: number; sentinels: number }> {
    const sentinel = new Redis({ port, host: '127.0.0.1' });
    try {
      const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', this.master)) as unknown[];
      const sentinels = (await sentinel.call('SENTINEL', 'SENTINELS', this.master)) as unknown[];
      return { replicas: replicas.length, sentinels: sentinels.length };
    } finally {
      sentinel.disconnect();
    }
  }
}
