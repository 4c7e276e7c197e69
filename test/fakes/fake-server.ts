import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fault a test injects: the next `remaining` API calls answer `status` (with Retry-After when given). */
export interface Fault {
  status: number;
  remaining: number;
  retryAfter?: string;
}

/** A fake ticket system's HTTP server on a loopback port, and the faults a test injects into its API. */
export abstract class FakeServer {
  url = '';
  protected server?: Server;
  private readonly faults: Fault[] = [];

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  async start(port = 0): Promise<this> {
    // A client that goes away mid-request (its deadline passed) ends the exchange, as on a real server.
    this.server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `count` API calls answer `status` (503 for an outage, 429 with Retry-After). */
  failNext(count: number, status: number, retryAfter?: string): void {
    this.faults.push({ status, remaining: count, retryAfter });
  }

  /** The fault this API call meets (and spends), if one is pending. */
  protected nextFault(): Fault | undefined {
    const fault = this.faults.find((f) => f.remaining > 0);
    if (fault) fault.remaining -= 1;
    return fault;
  }
}
