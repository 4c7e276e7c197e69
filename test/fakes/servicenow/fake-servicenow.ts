import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * ServiceNow on loopback, as its Table API documentation describes the parts rs-bridge uses: records as
 * `{result}` with string values, `PATCH /api/now/table/{table}/{sys_id}` (comments, work_notes, fields),
 * 404 with `{error:{message,detail},status:"failure"}` for an unknown sys_id, 429 with a JSON failure and
 * Retry-After, Basic auth and `/oauth_token.do` client credentials. It also sends Business Rule requests.
 */
export interface FakeRecord {
  sys_id: string;
  number: string;
  comments: string[];
  work_notes: string[];
  fields: Record<string, string>;
}

export class FakeServiceNow {
  readonly username = 'rsb.integration';
  readonly password = 'sn-password-0123456789';
  readonly clientId = 'sn-client-id';
  readonly clientSecret = 'sn-client-secret-0123456789';
  readonly webhookSecret = 'sn-webhook-secret-0123456789';
  readonly records = new Map<string, FakeRecord>();
  readonly requests: { method: string; path: string; status: number }[] = [];
  tokenRequests = 0;
  url = '';
  private tokens = new Map<string, number>();
  private server?: Server;
  private faults: { status: number; remaining: number; retryAfter?: string }[] = [];

  constructor(readonly table = 'incident') {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  createRecord(number: string): FakeRecord {
    const record: FakeRecord = { sys_id: randomBytes(16).toString('hex'), number, comments: [], work_notes: [], fields: {} };
    this.records.set(record.sys_id, record);
    return record;
  }

  failNext(count: number, status: number, retryAfter?: string): void {
    this.faults.push({ status, remaining: count, retryAfter });
  }

  expireTokens(): void {
    this.tokens.clear();
  }

  /** What the documented Business Rule sends: the record as JSON, authenticated one of the three ways. */
  async sendBusinessRule(
    target: string,
    record: FakeRecord,
    extra: Record<string, unknown> = {},
    auth: 'hmac' | 'header' | 'basic' | { header: Record<string, string> } = 'hmac',
    deliveryId: string = randomUUID(),
  ): Promise<Response> {
    const body = JSON.stringify({
      action: 'session.requested',
      delivery_id: deliveryId,
      table: this.table,
      sys_id: record.sys_id,
      number: record.number,
      short_description: 'Laptop will not boot',
      priority: '1 - Critical',
      assignment_group: 'Service Desk',
      caller: { name: 'Casey Customer', email: 'casey@example.com' },
      fields: { category: 'hardware' },
      ...extra,
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth === 'hmac') headers['x-rsb-signature'] = createHmac('sha256', this.webhookSecret).update(body).digest('base64');
    else if (auth === 'header') headers['x-rsb-webhook-secret'] = this.webhookSecret;
    else if (auth === 'basic') headers.authorization = `Basic ${Buffer.from(`servicenow:${this.webhookSecret}`).toString('base64')}`;
    else Object.assign(headers, auth.header);
    return fetch(target, { method: 'POST', headers, body });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const entry = { method: req.method ?? '', path: req.url ?? '', status: 0 };
    this.requests.push(entry);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };

    if (req.url === '/oauth_token.do' && req.method === 'POST') {
      this.tokenRequests += 1;
      const form = new URLSearchParams(text);
      if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret)
        return json(401, { error_description: 'access_denied', error: 'server_error' });
      const token = randomUUID();
      this.tokens.set(token, Date.now() + 1_800_000);
      return json(200, { access_token: token, token_type: 'Bearer', expires_in: 1799, scope: 'useraccount' });
    }

    const auth = req.headers.authorization ?? '';
    const basicOk = auth === `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    const bearer = /^Bearer (\S+)$/.exec(auth);
    const bearerOk = bearer && (this.tokens.get(bearer[1]) ?? 0) > Date.now();
    if (!basicOk && !bearerOk)
      return json(401, { error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' });

    const fault = this.faults.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining -= 1;
      return json(
        fault.status,
        { error: { message: fault.status === 429 ? 'Too Many Requests' : 'Service Unavailable', detail: null }, status: 'failure' },
        fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
      );
    }

    const match = new RegExp(`^/api/now/table/${this.table}/([0-9a-f]{32})$`).exec(req.url ?? '');
    if (match && (req.method === 'PATCH' || req.method === 'GET')) {
      const record = this.records.get(match[1]);
      if (!record)
        return json(404, {
          error: { message: 'No Record found', detail: "Record doesn't exist or ACL restricts the record retrieval" },
          status: 'failure',
        });
      if (req.method === 'PATCH') {
        const update = JSON.parse(text) as Record<string, unknown>;
        for (const [k, v] of Object.entries(update)) {
          if (k === 'comments') record.comments.push(String(v));
          else if (k === 'work_notes') record.work_notes.push(String(v));
          else record.fields[k] = String(v);
        }
      }
      return json(200, { result: { sys_id: record.sys_id, number: record.number, ...record.fields } });
    }
    return json(400, { error: { message: 'Invalid table or URL', detail: null }, status: 'failure' });
  }
}
