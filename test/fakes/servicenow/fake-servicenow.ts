import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { FakeServer } from '../fake-server';

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
  attachments: FakeAttachment[];
}

/** A file attached through the Attachment API: hashed as it streams in, never kept. */
export interface FakeAttachment {
  sys_id: string;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
}

/** How the Business Rule authenticates; `signedAt` signs with a timestamp of its own (UNIX seconds). */
export type BusinessRuleAuth =
  'hmac' | 'signed' | 'header' | 'basic' | { signedAt: number; secret?: string } | { header: Record<string, string> };

export class FakeServiceNow extends FakeServer {
  readonly username = 'rsb.integration';
  readonly password = 'sn-password-0123456789';
  readonly clientId = 'sn-client-id';
  readonly clientSecret = 'sn-client-secret-0123456789';
  readonly webhookSecret = 'sn-webhook-secret-0123456789';
  readonly records = new Map<string, FakeRecord>();
  readonly requests: { method: string; path: string; status: number }[] = [];
  tokenRequests = 0;
  /** Fields of the table (for the doctor's check of the rules file's field mapping). */
  readonly fields = new Set(['short_description', 'description', 'comments', 'work_notes', 'priority', 'assignment_group']);
  private nextNumber = 9_000_000;
  private tokens = new Map<string, number>();

  constructor(readonly table = 'incident') {
    super();
  }

  createRecord(number: string): FakeRecord {
    const record: FakeRecord = {
      sys_id: randomBytes(16).toString('hex'),
      number,
      comments: [],
      work_notes: [],
      fields: {},
      attachments: [],
    };
    this.records.set(record.sys_id, record);
    return record;
  }

  expireTokens(): void {
    this.tokens.clear();
  }

  /**
   * What the documented Business Rule sends: the record as JSON, authenticated one of the ways
   * docs/servicenow.md shows (`signed`: HMAC over "<X-RSB-Timestamp>.<body>", the recommended script).
   */
  businessRuleRequest(
    record: FakeRecord,
    extra: Record<string, unknown> = {},
    auth: BusinessRuleAuth = 'hmac',
    deliveryId: string = randomUUID(),
  ): { headers: Record<string, string>; body: string } {
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
    else if (auth === 'signed' || 'signedAt' in auth) {
      const timestamp = String(auth === 'signed' ? Math.floor(Date.now() / 1000) : auth.signedAt);
      const secret = auth === 'signed' ? this.webhookSecret : (auth.secret ?? this.webhookSecret);
      headers['x-rsb-timestamp'] = timestamp;
      headers['x-rsb-signature'] = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('base64');
    } else Object.assign(headers, auth.header);
    return { headers, body };
  }

  async sendBusinessRule(
    target: string,
    record: FakeRecord,
    extra: Record<string, unknown> = {},
    auth: BusinessRuleAuth = 'hmac',
    deliveryId: string = randomUUID(),
  ): Promise<Response> {
    const request = this.businessRuleRequest(record, extra, auth, deliveryId);
    return fetch(target, { method: 'POST', headers: request.headers, body: request.body });
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST' && (req.url ?? '').startsWith('/api/now/attachment/file')) return this.attach(req, res);
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

    if (this.refuse(req, json)) return;
    const url = new URL(req.url ?? '', 'http://x');
    const query = parseQuery(url.searchParams.get('sysparm_query') ?? '');

    if (req.method === 'GET' && url.pathname === '/api/now/attachment') {
      const record = [...this.records.values()].find((r) => r.sys_id === query.table_sys_id);
      const found = (record?.attachments ?? []).filter((a) => !query.file_name || a.file_name === query.file_name);
      return json(200, { result: found.map((a) => ({ sys_id: a.sys_id, file_name: a.file_name, size_bytes: String(a.size_bytes) })) });
    }
    if (req.method === 'GET' && url.pathname === '/api/now/table/sys_dictionary') {
      const found = query.name === this.table && this.fields.has(query.element ?? '');
      return json(200, { result: found ? [{ element: query.element }] : [] });
    }
    if (req.method === 'GET' && url.pathname === '/api/now/table/sys_journal_field') {
      // The journal of one field of one record: entries oldest first unless ORDERBYDESCsys_created_on.
      const record = this.records.get(query.element_id ?? '');
      const notes = query.element === 'comments' ? record?.comments : query.element === 'work_notes' ? record?.work_notes : [];
      const like = query['value LIKE'] ?? '';
      const entries = (notes ?? [])
        .map((value, i) => ({ sys_id: `${record!.sys_id}-${i}`, element: query.element, element_id: record!.sys_id, value }))
        .filter((e) => e.value.includes(like));
      if (query.ORDERBYDESC === 'sys_created_on') entries.reverse();
      const limit = Number(url.searchParams.get('sysparm_limit') ?? 10_000);
      const fields = url.searchParams.get('sysparm_fields')?.split(',');
      const shown = entries
        .slice(0, limit)
        .map((e) => (fields ? Object.fromEntries(Object.entries(e).filter(([k]) => fields.includes(k))) : e));
      return json(200, { result: shown });
    }
    if (url.pathname === `/api/now/table/${this.table}` && req.method === 'GET') {
      const found = [...this.records.values()].filter(
        (r) => (!query.number || r.number === query.number) && (!query.correlation_id || r.fields.correlation_id === query.correlation_id),
      );
      return json(200, {
        result: found.map((r) => ({ sys_id: r.sys_id, number: r.number, correlation_id: r.fields.correlation_id ?? '' })),
      });
    }
    if (url.pathname === `/api/now/table/${this.table}` && req.method === 'POST') {
      const body = JSON.parse(text) as Record<string, string>;
      const record = this.createRecord(`INC${String(this.nextNumber++).padStart(7, '0')}`);
      Object.assign(record.fields, body);
      return json(201, { result: { sys_id: record.sys_id, number: record.number, ...record.fields } });
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

  /** Authentication and injected faults, shared by every endpoint; true when the request was answered. */
  private refuse(req: IncomingMessage, json: (status: number, body: unknown, headers?: Record<string, string>) => void): boolean {
    const auth = req.headers.authorization ?? '';
    const basicOk = auth === `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    const bearer = /^Bearer (\S+)$/.exec(auth);
    const bearerOk = bearer && (this.tokens.get(bearer[1]) ?? 0) > Date.now();
    if (!basicOk && !bearerOk) {
      json(401, { error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' });
      return true;
    }
    const fault = this.nextFault();
    if (!fault) return false;
    json(
      fault.status,
      { error: { message: fault.status === 429 ? 'Too Many Requests' : 'Service Unavailable', detail: null }, status: 'failure' },
      fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
    );
    return true;
  }

  /** `POST /api/now/attachment/file?table_name&table_sys_id&file_name`: streamed through a hash. */
  private async attach(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = { method: 'POST', path: req.url ?? '', status: 0 };
    this.requests.push(entry);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/json', connection: 'close', ...headers });
      res.end(JSON.stringify(body));
    };
    if (this.refuse(req, json)) return void req.resume();
    const q = new URL(req.url ?? '', 'http://x').searchParams;
    const record = this.records.get(q.get('table_sys_id') ?? '');
    if (q.get('table_name') !== this.table || !record || !q.get('file_name')) {
      req.resume();
      return json(400, { error: { message: 'Invalid table_name, table_sys_id or file_name', detail: null }, status: 'failure' });
    }
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
    const attachment: FakeAttachment = {
      sys_id: randomBytes(16).toString('hex'),
      file_name: q.get('file_name')!,
      content_type: String(req.headers['content-type'] ?? 'application/octet-stream'),
      size_bytes: size,
      sha256: hash.digest('hex'),
    };
    record.attachments.push(attachment);
    json(201, { result: { ...attachment, size_bytes: String(size), table_sys_id: record.sys_id } });
  }
}

/** `a=b^c=d^valueLIKEx^ORDERBYDESCf` → { a: 'b', c: 'd', 'value LIKE': 'x', ORDERBYDESC: 'f' }: the encoded queries rs-bridge sends. */
function parseQuery(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of query.split('^').filter(Boolean)) {
    const order = /^(ORDERBYDESC|ORDERBY)(\w+)$/.exec(part);
    const like = /^(\w+)LIKE(.*)$/.exec(part);
    if (order) out[order[1]] = order[2];
    else if (like) out[`${like[1]} LIKE`] = like[2];
    else {
      const eq = part.indexOf('=');
      if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
    }
  }
  return out;
}
