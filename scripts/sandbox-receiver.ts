import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { verifyStandardWebhook } from '../src/common/standard-webhooks';

/**
 * The sandbox's generic ticket system: it receives rs-bridge's callbacks (Standard Webhooks, signed with
 * GENERIC_WEBHOOK_SECRET) at POST /callback, keeps them by ticket, and shows them at GET /tickets/{id}.
 */
export class GenericReceiver {
  readonly tickets = new Map<string, unknown[]>();
  url = '';
  private server?: Server;

  constructor(private readonly secret: string) {}

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = (status: number, body: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        const ticket = /^\/tickets\/([^/]+)$/.exec(req.url ?? '');
        if (req.method === 'GET' && ticket) return answer(200, { updates: this.tickets.get(decodeURIComponent(ticket[1])) ?? [] });
        if (req.method !== 'POST' || req.url !== '/callback') return answer(404, { error: 'not found' });
        const raw = Buffer.concat(chunks);
        const verified = verifyStandardWebhook(this.secret, req.headers, raw, 300);
        if (!verified.ok) return answer(401, { error: verified.message });
        const update = JSON.parse(raw.toString('utf8')) as { ticketId: string };
        const seen = this.tickets.get(update.ticketId) ?? [];
        this.tickets.set(update.ticketId, [...seen, update]);
        answer(200, { received: verified.id });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
}
