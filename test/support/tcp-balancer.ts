import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';
import { splice } from './tcp-proxy';

/**
 * A small TCP load balancer in front of several HTTP backends, acting as a Service would: it probes
 * each backend's /readyz and sends new connections only to ready ones (round robin), as kube-proxy does
 * once the endpoints controller has taken a pod out. Connections already open stay where they are.
 */
export class TcpBalancer {
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private readonly sockets = new Set<Socket>();
  private readonly ready = new Map<number, boolean>();
  private next = 0;
  port = 0;
  /** Connections that found no ready backend (a Service with no endpoints refuses them too). */
  refused = 0;

  constructor(
    private readonly backends: number[],
    private readonly probeEveryMs = 200,
  ) {}

  async start(): Promise<this> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), this.probeEveryMs);
    this.server = createServer((client) => {
      const ready = this.backends.filter((port) => this.ready.get(port));
      if (ready.length === 0) {
        this.refused++;
        client.destroy();
        return;
      }
      splice(client, createConnection(ready[this.next++ % ready.length], '127.0.0.1'), this.sockets);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  isReady(port: number): boolean {
    return this.ready.get(port) === true;
  }

  private async probe(): Promise<void> {
    await Promise.all(
      this.backends.map(async (port) => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(this.probeEveryMs * 2) });
          await res.arrayBuffer();
          this.ready.set(port, res.status === 200);
        } catch {
          this.ready.set(port, false);
        }
      }),
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
