import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface BotDelivery {
  id: string;
  type: string;
  body: Record<string, unknown>;
  receivedAt: number;
}

/**
 * A chat bot's callback endpoint on loopback: checks every signature with the official Standard Webhooks
 * library, as a bot built on it would (a bad one gets 401 and is counted), keeps each delivery, and can fail on purpose. `received` holds every accepted
 * POST (repeats included); `unique` drops repeats by webhook-id, as a bot should.
 */
export class FakeBot {
  readonly received: BotDelivery[] = [];
  badSignatures = 0;
  url = '';
  private server?: Server;
  private failures = 0;
  private refusals = 0;
  /** Callbacks answered 400 by refuseNext. */
  refused = 0;
  /** The escalation of each refused callback, in order. */
  readonly refusedEscalations: string[] = [];

  constructor(private readonly secret: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/rs-bridge`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `count` callbacks answer 503 (a bot restarting). */
  failNext(count: number): void {
    this.failures = count;
  }

  /** The next `count` callbacks answer 400 (a bot that rejects what it got). */
  refuseNext(count: number): void {
    this.refusals = count;
  }

  get unique(): BotDelivery[] {
    const seen = new Set<string>();
    return this.received.filter((d) => !seen.has(d.id) && seen.add(d.id));
  }

  of(escalationId: string): BotDelivery[] {
    return this.unique.filter((d) => d.body.escalationId === escalationId);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    try {
      new Webhook(this.secret).verify(raw.toString('utf8'), req.headers as Record<string, string>);
    } catch {
      this.badSignatures += 1;
      res.writeHead(401).end();
      return;
    }
    if (this.refusals > 0) {
      this.refusals -= 1;
      this.refused += 1;
      try {
        this.refusedEscalations.push(String((JSON.parse(raw.toString('utf8')) as { escalationId?: unknown }).escalationId));
      } catch {
        this.refusedEscalations.push('');
      }
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"unexpected payload"}');
      return;
    }
    if (this.failures > 0) {
      this.failures -= 1;
      res.writeHead(503).end();
      return;
    }
    const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    this.received.push({ id: String(req.headers['webhook-id']), type: String(body.type), body, receivedAt: performance.now() });
    res.writeHead(204).end();
  }
}
