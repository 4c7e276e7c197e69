import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * An on-premise Upscope server on loopback, as its REST API reference describes it: mounted on
 * `<base>/api`, `Authorization: <REST_KEY>`, `{status:"ok", visitors|visitor|watch_url}`; search over
 * email, `id:`, `ip:`, lookup code, `#tag` and free text; watch URLs need a license token and an agent.
 * The reference documents only successful answers, so a refusal is a plain HTTP status with a line of
 * text (401 for a wrong key, 404 for no such visitor, 400 for a bad request), and a test can make the
 * next answers any status (failNext): nothing beyond what HTTP says.
 */
export interface FakeVisitor {
  short_id: string;
  name?: string;
  email?: string;
  lookup_code?: string;
  ip?: string;
  tags?: string[];
  online: boolean;
  last_seen_at: string;
}

export class FakeUpscope {
  readonly restKey = 'upscope-rest-key-0123456789';
  readonly licenseToken = 'upscope-license-token-0123';
  readonly base = '/cobrowsing';
  readonly visitors: FakeVisitor[] = [];
  readonly watchRequests: { visitorId: string; body: Record<string, unknown> }[] = [];
  private faults: { status: number; remaining: number; path?: RegExp }[] = [];
  /** When set, answers arrive a byte every this many ms (a slow proxy in between). */
  trickleMs?: number;
  url = '';
  private server?: Server;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.base}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  addVisitor(v: Partial<FakeVisitor> = {}): FakeVisitor {
    const visitor: FakeVisitor = {
      short_id: v.short_id ?? randomBytes(4).toString('hex'),
      lookup_code: v.lookup_code ?? String(1000 + this.visitors.length),
      online: v.online ?? true,
      last_seen_at: new Date().toISOString(),
      ...v,
    };
    this.visitors.unshift(visitor);
    return visitor;
  }

  private search(q: string): FakeVisitor[] {
    const query = q.trim();
    if (!query) return this.visitors;
    const prefixed = /^(id|ip):(.+)$/.exec(query);
    if (prefixed) return this.visitors.filter((v) => (prefixed[1] === 'id' ? v.short_id : v.ip) === prefixed[2]);
    if (query.startsWith('#')) return this.visitors.filter((v) => v.tags?.includes(query.slice(1)));
    if (query.includes('@')) return this.visitors.filter((v) => v.email?.toLowerCase() === query.toLowerCase());
    if (/^\d+$/.test(query)) return this.visitors.filter((v) => v.lookup_code === query);
    return this.visitors.filter((v) => `${v.name ?? ''} ${v.email ?? ''}`.toLowerCase().includes(query.toLowerCase()));
  }

  /** The next `count` API calls (to paths matching `path`, if given) answer `status` and a line of text. */
  failNext(count: number, status: number, path?: RegExp): void {
    this.faults.push({ status, remaining: count, path });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, body: unknown) => {
      if (status !== 200) {
        res.writeHead(status, { 'content-type': 'text/plain' });
        return void res.end(String((body as { error?: string }).error ?? ''));
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      const interval = this.trickleMs;
      if (interval === undefined) return void res.end(JSON.stringify(body));
      void (async () => {
        for (const byte of Buffer.from(JSON.stringify(body))) {
          if (res.destroyed) return;
          res.write(Buffer.from([byte]));
          await new Promise((r) => setTimeout(r, interval));
        }
        res.end();
      })();
    };
    const url = new URL(req.url ?? '', 'http://x');
    if (!url.pathname.startsWith(`${this.base}/api/`)) return send(404, { error: 'Not found' });
    if (req.headers.authorization !== this.restKey) return send(401, { error: 'Unauthorized' });
    const fault = this.faults.find((f) => f.remaining > 0 && (!f.path || f.path.test(url.pathname)));
    if (fault) {
      fault.remaining -= 1;
      return send(fault.status, { error: `HTTP ${fault.status}` });
    }
    const path = url.pathname.slice(`${this.base}/api`.length);

    if (req.method === 'GET' && path === '/visitors/list/latest')
      return send(200, { status: 'ok', visitors: this.visitors.filter((v) => v.online) });
    if (req.method === 'GET' && path === '/visitors/list/search')
      return send(200, { status: 'ok', visitors: this.search(url.searchParams.get('q') ?? '') });
    const one = /^\/visitors\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && one) {
      const visitor = this.visitors.find((v) => v.short_id === decodeURIComponent(one[1]));
      return visitor ? send(200, { status: 'ok', visitor }) : send(404, { error: 'Visitor not found' });
    }
    const watch = /^\/visitors\/([^/]+)\/watch_url$/.exec(path);
    if (req.method === 'POST' && watch) {
      const visitor = this.visitors.find((v) => v.short_id === decodeURIComponent(watch[1]));
      if (!visitor) return send(404, { error: 'Visitor not found' });
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const agent = body.agent as { id?: string; name?: string } | undefined;
      if (body.licenseToken !== this.licenseToken) return send(401, { error: 'Invalid license token' });
      if (!agent?.id || !agent.name) return send(400, { error: 'agent.id and agent.name are required' });
      this.watchRequests.push({ visitorId: visitor.short_id, body });
      return send(200, { status: 'ok', watch_url: `${this.url}/screen?id=${visitor.short_id}&token=${randomBytes(8).toString('hex')}` });
    }
    return send(404, { error: 'Not found' });
  }
}
