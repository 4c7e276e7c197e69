import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

/** Joins a client to its upstream both ways, each end closing the other; both kept in `sockets` while open. */
export function splice(client: Socket, upstream: Socket, sockets: Set<Socket>): void {
  for (const s of [client, upstream]) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  }
  client.pipe(upstream).pipe(client);
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
}

/**
 * A loopback TCP proxy in front of a real server (Redis). `cut()` drops every connection and stops
 * listening, as a Redis restart or a network partition would; `restore()` listens on the same port.
 * Lets a test take "Redis" away from the app without stopping the Redis other tests share.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      splice(client, createConnection(this.targetPort, this.targetHost), this.sockets);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.server = undefined;
  }

  async restore(): Promise<this> {
    return this.server ? this : this.start();
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.server) await this.cut();
  }
}
