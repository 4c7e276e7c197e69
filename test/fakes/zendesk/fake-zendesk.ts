import { createHash, createHmac, randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { FakeServer } from '../fake-server';

/**
 * Zendesk on loopback, as its documentation describes the parts rs-bridge uses: the Tickets API
 * (`PUT /api/v2/tickets/{id}.json` with a comment, custom_fields, additional_tags; Show Ticket; List
 * Tickets by external_id with the pagination parameters the API takes), Basic
 * `email/token:api_token` or Bearer auth, RecordNotFound 404, the 5,000-comment 422, and 429
 * `text/plain` with Retry-After. It also signs and sends webhooks the way Zendesk does.
 *
 * The Update Ticket endpoint's own limit is enforced ("100 requests per minute per account", Rate limits
 * > Endpoint rate limits): past it, 429 with Retry-After until the oldest update leaves the minute.
 */

export interface FakeComment {
  body: string;
  public: boolean;
  html?: boolean;
  /** Files attached through upload tokens. */
  attachments: FakeUpload[];
}

/** An uploaded file: its bytes are hashed as they stream in, never kept. */
export interface FakeUpload {
  token: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
}

export interface FakeTicket {
  id: string;
  subject?: string;
  externalId?: string;
  comments: FakeComment[];
  customFields: Record<string, unknown>;
  tags: string[];
  /** new, open, pending, hold, solved or closed; a closed ticket takes no update. */
  status?: string;
}

export class FakeZendesk extends FakeServer {
  readonly email = 'agent@example.com';
  readonly apiToken = 'zd-api-token-0123456789';
  readonly webhookSecret = 'zd-webhook-secret-0123456789';
  readonly tickets = new Map<string, FakeTicket>();
  readonly requests: { method: string; path: string; status: number; body?: unknown }[] = [];
  readonly uploads = new Map<string, FakeUpload>();
  /** Ticket field ids that exist (for the doctor's check of the rules file's custom fields). */
  readonly ticketFields = new Set<string>();
  /** Zendesk refuses attachments over 50 MB. */
  maxUploadBytes = 50 * 1024 * 1024;
  private nextTicketId = 900_000;
  commentLimit = 5_000;
  /** Update Ticket calls a minute per account (the documented 100); Infinity turns the limit off. */
  updateTicketLimitPerMinute = 100;
  /** The minute's length, shortened only by compressed benches. */
  rateWindowMs = 60_000;
  /** How many Update Ticket calls were refused with 429 by the limit above. */
  updateTicketThrottled = 0;
  private updateTimes: number[] = [];
  /** Called as each comment lands (benchmarks time with it). */
  onComment?: (ticketId: string, comment: FakeComment) => void;
  /** The sandbox lets any ticket id exist; tests create tickets explicitly and get 404 otherwise. */
  autoCreateTickets = false;
  private holds: { method: string; path: RegExp; remaining: number }[] = [];
  private trickles: { remaining: number; intervalMs: number }[] = [];
  /**
   * Requests that took effect (the comment is on the ticket, the upload is stored) but whose answer is
   * held back: what a worker killed mid-write, or a Zendesk that never answers, leaves behind.
   */
  readonly held: { method: string; path: string; release(): void }[] = [];

  /** Called when an upload's body starts to arrive (a test acts mid-transfer with it). */
  onUploadStart?: (filename: string) => void;
  /** While true every connection is cut as it arrives: Zendesk unreachable, as in an outage. */
  down = false;

  override async start(port = 0): Promise<this> {
    await super.start(port);
    this.server!.on('connection', (socket) => {
      if (this.down) socket.destroy();
    });
    return this;
  }

  createTicket(id: string, tags: string[] = []): FakeTicket {
    const ticket: FakeTicket = { id, comments: [], customFields: {}, tags: [...tags] };
    this.tickets.set(id, ticket);
    return ticket;
  }

  /** The next `count` requests matching `method` and `path` take effect, then get no answer until released. */
  holdNext(count: number, method: string, path: RegExp): void {
    this.holds.push({ method, path, remaining: count });
  }

  /** Sends the answers held back so far. */
  releaseHeld(): void {
    for (const h of this.held.splice(0)) h.release();
  }

  /** The next `count` answers arrive a byte every `intervalMs` (never idle that long), as through a slow proxy. */
  trickleNext(count: number, intervalMs = 500): void {
    this.trickles.push({ remaining: count, intervalMs });
  }

  /** Sends an answer: now, byte by byte when a trickle is pending, or later when a hold matches the request. */
  private respond(
    req: IncomingMessage,
    res: ServerResponse,
    record: { status: number },
    status: number,
    headers: Record<string, string>,
    body: string,
  ): void {
    const trickle = this.trickles.find((t) => t.remaining > 0);
    if (trickle) trickle.remaining -= 1;
    const send = () => {
      record.status = status;
      if (res.destroyed) return;
      res.writeHead(status, headers);
      if (!trickle) return void res.end(body);
      void (async () => {
        const bytes = Buffer.from(body);
        for (let i = 0; i < bytes.length && !res.destroyed; i += 1) {
          res.write(bytes.subarray(i, i + 1));
          await new Promise((r) => setTimeout(r, trickle.intervalMs));
        }
        if (!res.destroyed) res.end();
      })();
    };
    const hold = this.holds.find((h) => h.remaining > 0 && h.method === req.method && h.path.test(req.url ?? ''));
    if (!hold) return send();
    hold.remaining -= 1;
    this.held.push({ method: req.method ?? '', path: req.url ?? '', release: send });
  }

  /** A webhook request as Zendesk signs it, with the five x-zendesk-* headers (what a capture would hold). */
  webhookRequest(
    body: unknown,
    options: { secret?: string; timestamp?: string; invocationId?: string; rawBody?: string; signature?: string } = {},
  ): { headers: Record<string, string>; body: string } {
    const raw = options.rawBody ?? JSON.stringify(body);
    const timestamp = options.timestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const signature =
      options.signature ??
      createHmac('sha256', options.secret ?? this.webhookSecret)
        .update(timestamp + raw)
        .digest('base64');
    return {
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Zendesk Webhook',
        'x-zendesk-account-id': '12514403',
        'x-zendesk-webhook-id': '01GK8E6BKWMJZD2T8Y5AXJQMG5',
        'x-zendesk-webhook-invocation-id': options.invocationId ?? randomUUID(),
        'x-zendesk-webhook-signature': signature,
        'x-zendesk-webhook-signature-timestamp': timestamp,
      },
      body: raw,
    };
  }

  /** Signs and POSTs a webhook with the five x-zendesk-* headers Zendesk sends. */
  async sendWebhook(
    target: string,
    body: unknown,
    options: { secret?: string; timestamp?: string; invocationId?: string; rawBody?: string; signature?: string } = {},
  ): Promise<Response> {
    const request = this.webhookRequest(body, options);
    return fetch(target, { method: 'POST', headers: request.headers, body: request.body });
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST' && (req.url ?? '').startsWith('/api/v2/uploads.json')) return this.upload(req, res);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const record: FakeZendesk['requests'][number] = { method: req.method ?? '', path: req.url ?? '', status: 0 };
    this.requests.push(record);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      this.respond(req, res, record, status, { 'content-type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(body));

    if (this.refuse(req, res, record)) return;
    if (req.method === 'PUT' && /^\/api\/v2\/tickets\/\d+\.json$/.test(req.url ?? '')) {
      const now = Date.now();
      this.updateTimes = this.updateTimes.filter((t) => t > now - this.rateWindowMs);
      if (this.updateTimes.length >= this.updateTicketLimitPerMinute) {
        this.updateTicketThrottled += 1;
        record.status = 429;
        const seconds = Math.max(1, Math.ceil((this.updateTimes[0] + this.rateWindowMs - now) / 1000));
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(seconds) });
        return void res.end('Too many requests');
      }
      this.updateTimes.push(now);
    }

    const comments = /^\/api\/v2\/tickets\/(\d+)\/comments\.json(\?.*)?$/.exec(req.url ?? '');
    if (req.method === 'GET' && comments) {
      const ticket = this.tickets.get(comments[1]);
      if (!ticket) return json(404, { error: 'RecordNotFound', description: 'Not found' });
      const query = new URLSearchParams(comments[2]?.slice(1) ?? '');
      const all = ticket.comments.map((c, i) => ({
        id: i + 1,
        body: c.body,
        html_body: c.html ? c.body : `<p>${c.body}</p>`,
        public: c.public,
        attachments: c.attachments.map((a) => ({ file_name: a.filename, content_type: a.contentType, size: a.size })),
      }));
      if (query.get('sort_order') === 'desc') all.reverse();
      return json(200, { comments: all.slice(0, Number(query.get('per_page') ?? 100)), count: ticket.comments.length });
    }
    if (req.method === 'GET' && req.url === '/api/v2/users/me.json')
      return json(200, { user: { id: 1001, email: this.email, role: 'agent' } });
    const field = /^\/api\/v2\/ticket_fields\/(\d+)\.json$/.exec(req.url ?? '');
    if (req.method === 'GET' && field) {
      return this.ticketFields.has(field[1])
        ? json(200, { ticket_field: { id: Number(field[1]), type: 'text', title: `Field ${field[1]}` } })
        : json(404, { error: 'RecordNotFound', description: 'Not found' });
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    // List Tickets, optionally filtered by external id (which Zendesk does not require to be unique), with
    // the API's other parameters (page[size], sort_by, ...) accepted as the real one accepts them.
    if (req.method === 'GET' && url.pathname === '/api/v2/tickets.json') {
      const externalId = url.searchParams.get('external_id');
      const found = [...this.tickets.values()].filter((t) => externalId === null || t.externalId === externalId);
      const size = Number(url.searchParams.get('page[size]') ?? url.searchParams.get('per_page') ?? 100);
      if (!Number.isInteger(size) || size < 1 || size > 100)
        return json(400, { error: 'InvalidPaginationParameter', description: 'page[size] must be from 1 to 100' });
      const page = found.slice(0, size);
      return json(200, {
        tickets: page.map((t) => this.ticketJson(t)),
        meta: { has_more: found.length > size, after_cursor: null, before_cursor: null },
        count: found.length,
      });
    }
    // Show Ticket.
    const one = /^\/api\/v2\/tickets\/(\d+)\.json$/.exec(url.pathname);
    if (req.method === 'GET' && one) {
      const ticket = this.tickets.get(one[1]);
      return ticket ? json(200, { ticket: this.ticketJson(ticket) }) : json(404, { error: 'RecordNotFound', description: 'Not found' });
    }
    if (req.method === 'POST' && req.url === '/api/v2/tickets.json') {
      const body = JSON.parse(text) as {
        ticket: { subject?: string; external_id?: string; comment?: { body: string; public?: boolean } };
      };
      const ticket = this.createTicket(String(this.nextTicketId++));
      ticket.subject = body.ticket.subject;
      ticket.externalId = body.ticket.external_id;
      if (body.ticket.comment)
        ticket.comments.push({ body: body.ticket.comment.body, public: body.ticket.comment.public !== false, attachments: [] });
      return json(201, { ticket: { id: Number(ticket.id), subject: ticket.subject, external_id: ticket.externalId ?? null } });
    }
    const match = /^\/api\/v2\/tickets\/(\d+)\.json$/.exec(req.url ?? '');
    if (req.method === 'PUT' && match) {
      const ticket = this.tickets.get(match[1]) ?? (this.autoCreateTickets ? this.createTicket(match[1]) : undefined);
      if (!ticket) return json(404, { error: 'RecordNotFound', description: 'Not found' });
      const body = JSON.parse(text) as {
        ticket: {
          comment?: { body?: string; html_body?: string; public?: boolean; uploads?: string[] };
          custom_fields?: { id: number; value: unknown }[];
          additional_tags?: string[];
          tags?: string[];
          status?: string;
        };
      };
      record.body = body;
      const update = body.ticket;
      if (ticket.status === 'closed')
        return json(422, {
          error: 'RecordInvalid',
          description: 'Record validation errors',
          details: { status: [{ description: 'Status: closed prevents ticket update' }] },
        });
      if (update.status !== undefined && !['new', 'open', 'pending', 'hold', 'solved', 'closed'].includes(update.status))
        return json(422, {
          error: 'RecordInvalid',
          description: 'Record validation errors',
          details: { status: [{ description: `Status: ${update.status} is not valid` }] },
        });
      if (update.comment && ticket.comments.length >= this.commentLimit) {
        return json(422, {
          error: 'RecordInvalid',
          description: 'Record validation errors',
          details: { base: [{ description: 'Ticket exceeds the limit of 5,000 comments' }] },
        });
      }
      if (update.comment) {
        const attachments: FakeUpload[] = [];
        for (const token of update.comment.uploads ?? []) {
          const upload = this.uploads.get(token);
          if (!upload) return json(422, { error: 'RecordInvalid', description: `Upload token ${token} is invalid or expired` });
          attachments.push(upload);
        }
        const html = update.comment.html_body !== undefined;
        ticket.comments.push({
          body: (html ? update.comment.html_body : update.comment.body) ?? '',
          html,
          public: update.comment.public !== false,
          attachments,
        });
        this.onComment?.(ticket.id, ticket.comments[ticket.comments.length - 1]);
      }
      for (const f of update.custom_fields ?? []) ticket.customFields[String(f.id)] = f.value;
      for (const t of update.additional_tags ?? []) if (!ticket.tags.includes(t)) ticket.tags.push(t);
      if (update.tags) ticket.tags = [...update.tags];
      if (update.status) ticket.status = update.status;
      return json(200, { ticket: { id: Number(ticket.id), tags: ticket.tags } });
    }
    return json(404, { error: 'InvalidEndpoint', description: 'Not found' });
  }

  private ticketJson(t: FakeTicket): Record<string, unknown> {
    return {
      id: Number(t.id),
      url: `${this.url}/api/v2/tickets/${t.id}.json`,
      external_id: t.externalId ?? null,
      subject: t.subject ?? null,
      tags: t.tags,
      custom_fields: Object.entries(t.customFields).map(([id, value]) => ({ id: Number(id), value })),
    };
  }

  /** Authentication and injected faults, shared by every endpoint; true when the request was answered. */
  private refuse(req: IncomingMessage, res: ServerResponse, record: { status: number }): boolean {
    const json = (status: number, body: unknown) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
      return true;
    };
    const auth = req.headers.authorization ?? '';
    const basic = `Basic ${Buffer.from(`${this.email}/token:${this.apiToken}`).toString('base64')}`;
    if (auth !== basic && auth !== 'Bearer zd-oauth-token-0123456789') return json(401, { error: "Couldn't authenticate you" });
    const fault = this.nextFault();
    if (!fault) return false;
    record.status = fault.status;
    if (fault.status === 429) {
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': fault.retryAfter ?? '1' });
      res.end('Too many requests');
      return true;
    }
    return json(fault.status, { error: 'ServiceUnavailable', description: 'Try again later' });
  }

  /** `POST /api/v2/uploads.json?filename=`: the body streams through a hash; only its size and digest stay. */
  private async upload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: FakeZendesk['requests'][number] = { method: 'POST', path: req.url ?? '', status: 0 };
    this.requests.push(record);
    const reply = (status: number, body: unknown) =>
      this.respond(
        req,
        res,
        record,
        status,
        { 'content-type': 'application/json; charset=utf-8', connection: 'close' },
        JSON.stringify(body),
      );
    if (this.refuse(req, res, record)) return void req.resume();
    const filename = new URL(req.url ?? '', 'http://x').searchParams.get('filename');
    if (!filename) return void (req.resume(), reply(400, { error: 'InvalidValue', description: 'filename is required' }));
    const hash = createHash('sha256');
    let size = 0;
    this.onUploadStart?.(filename);
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.maxUploadBytes) {
        req.destroy();
        return reply(413, { error: 'RecordInvalid', description: 'Attachment is too large (the limit is 50 MB)' });
      }
      hash.update(chunk as Buffer);
    }
    const upload: FakeUpload = {
      token: randomUUID().replace(/-/g, ''),
      filename,
      contentType: String(req.headers['content-type'] ?? 'application/binary'),
      size,
      sha256: hash.digest('hex'),
    };
    this.uploads.set(upload.token, upload);
    reply(201, { upload: { token: upload.token, attachment: { file_name: filename, content_type: upload.contentType, size } } });
  }
}
