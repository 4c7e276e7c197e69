import { bearerOrBasic, ticketRequest, underBase } from '../ticket-http';
import type { RedisClient } from '../../redis/redis-options';
import type { TicketPacer } from '../ticket-pacer';
import { squash } from '../write-once';
import type { OutcomeRule, WriteBackRules } from '../../config/rules';
import {
  renderFields,
  CreatedTicket,
  NewTicket,
  OpenedFile,
  StagedFile,
  TicketLookup,
  TicketNote,
  TicketUpdate,
  TicketWriter,
  WriteBackExtras,
  WriteContext,
} from '../ticket-writer';

export interface ZendeskClientOptions {
  baseUrl: string;
  email?: string;
  apiToken?: string;
  oauthToken?: string;
  timeoutMs?: number;
  /**
   * ZENDESK_RATE_LIMIT_PER_MINUTE, shared by every pod: Update Ticket is limited per account (100 a
   * minute, agents' own updates included). Key replies go before session-end notes.
   */
  pacer?: TicketPacer;
  /**
   * Where upload tokens wait for the comment that uses them (Redis, with a key prefix): a comment refused
   * (a 429, an outage) and retried reuses them instead of downloading and uploading the files again.
   */
  uploads?: { redis: RedisClient; prefix: string };
}

/** Zendesk keeps an upload token for 60 minutes; a retry later than this uploads again. */
const UPLOAD_TOKEN_TTL_MS = 50 * 60_000;

/**
 * Writes to Zendesk tickets through the Tickets API (`PUT /api/v2/tickets/{id}.json`); files go through
 * the Uploads API first (`POST /api/v2/uploads.json`, streamed) and ride on the comment as tokens.
 */
export class ZendeskClient implements TicketWriter {
  readonly system = 'zendesk';
  readonly markup = 'html';
  /** Zendesk refuses attachments over 50 MB. */
  readonly defaultMaxAttachmentBytes = 50 * 1024 * 1024;
  /** Comments are limited to 64 KB of body; keep a margin for the markup around the text. */
  readonly maxNoteLength = 60_000;
  readonly ticketIdPattern = /^\d+$/;
  readonly stagedFileTtlMs = UPLOAD_TOKEN_TTL_MS;
  /** One comment per update, and Update Ticket is limited per account (agents' updates included). */
  readonly replyNoteCost = 'update';

  /** Agents see the ticket id itself. */
  async lookUpTicket(value: string): Promise<TicketLookup> {
    return /^\d{1,18}$/.test(value) ? { ticket: { id: value, number: value } } : { invalid: true };
  }

  /** A key that is a ticket id (`123`, `#123`). */
  async ticketFromKey(value: string): Promise<CreatedTicket | undefined> {
    const id = /^#?(\d{1,12})$/.exec(value)?.[1];
    return id ? { id, number: id } : undefined;
  }

  writeBackExtras(rules: WriteBackRules): WriteBackExtras {
    return { fields: rules.zendesk.customFields, tags: rules.zendesk.tags };
  }

  async outcomeUpdate(rule: OutcomeRule, render: (template: string) => Promise<string>): Promise<TicketUpdate> {
    const z = rule.zendesk;
    return z ? { status: z.status, fields: await renderFields(z.customFields, render), addTags: z.tags } : {};
  }
  private readonly authorization: string;

  constructor(private readonly options: ZendeskClientOptions) {
    this.authorization = bearerOrBasic(options.oauthToken, `${options.email}/token`, options.apiToken);
  }

  private url(path: string): string {
    return underBase(this.options.baseUrl, path);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: this.authorization, accept: 'application/json', ...extra };
  }

  async update(ticketId: string, update: TicketUpdate, context?: WriteContext): Promise<void> {
    if (update.note !== undefined) throw new Error('a Zendesk update carries one comment; the note needs an update of its own');
    const ticket: Record<string, unknown> = {};
    if (update.comment) ticket.comment = { body: update.comment.body, public: update.comment.public };
    if (update.fields && Object.keys(update.fields).length) {
      ticket.custom_fields = Object.entries(update.fields).map(([id, value]) => ({ id: Number(id), value }));
    }
    // additional_tags adds; `tags` would replace the ticket's tags.
    if (update.addTags?.length) ticket.additional_tags = update.addTags;
    if (update.status) ticket.status = update.status;
    await this.putTicket(ticketId, ticket, context?.lane ?? 'interactive');
  }

  async addNote(ticketId: string, note: TicketNote): Promise<void> {
    const uploads: string[] = [];
    const kept = this.options.uploads;
    // Keyed by the write's marker (unique per note) and the file's name.
    const keyOf = (filename: string) => (kept ? `${kept.prefix}:${ticketId}:${note.marker}:${filename}` : '');
    for (const file of note.files ?? []) {
      const earlier = kept ? await kept.redis.get(keyOf(file.filename)) : null;
      if (earlier) {
        uploads.push(earlier);
        continue;
      }
      const token = await this.upload(file.filename, file.contentType, await file.open());
      if (kept) await kept.redis.set(keyOf(file.filename), token, 'PX', UPLOAD_TOKEN_TTL_MS);
      uploads.push(token);
    }
    const comment: Record<string, unknown> = { public: false };
    if (note.html) comment.html_body = note.html;
    else comment.body = note.text;
    // Several tokens on one comment: the note and the session's recordings are one ticket update.
    uploads.push(...(note.staged ?? []).map((s) => s.token));
    if (uploads.length) comment.uploads = uploads;
    await this.putTicket(ticketId, { comment }, 'batch');
    // Staged files' tokens are left to expire: a retry after a crash right here must not upload again.
    if (kept && note.files?.length) await kept.redis.del(...note.files.map((f) => keyOf(f.filename)));
  }

  /** Uploads API ahead of the note; the token is kept (Redis, with its expiry) under `key`. */
  async stageFile(ticketId: string, key: string, open: () => Promise<OpenedFile>): Promise<StagedFile> {
    const kept = this.options.uploads;
    const keptKey = kept ? `${kept.prefix}:${ticketId}:staged:${key}` : '';
    const earlier = kept ? await kept.redis.get(keptKey) : null;
    if (earlier) return JSON.parse(earlier) as StagedFile;
    const file = await open();
    const staged: StagedFile = { filename: file.filename, token: await this.upload(file.filename, file.contentType, file) };
    if (kept) await kept.redis.set(keptKey, JSON.stringify(staged), 'PX', UPLOAD_TOKEN_TTL_MS);
    return staged;
  }

  /**
   * List Comments, newest first: a write interrupted on its way is always among the last 100. Public
   * replies and internal notes are told apart by the comment's `public` flag.
   */
  async hasWritten(ticketId: string, text: string, visibility: 'public' | 'internal' = 'internal'): Promise<boolean> {
    const response = await ticketRequest<{
      comments?: { body?: string; html_body?: string; plain_body?: string; public?: boolean }[];
    }>(this.system, {
      method: 'GET',
      url: this.url(`/api/v2/tickets/${encodeURIComponent(ticketId)}/comments.json?sort_order=desc&per_page=100`),
      headers: this.headers(),
      timeout: this.options.timeoutMs,
    });
    const wanted = squash(text);
    return (response.data.comments ?? [])
      .filter((c) => (c.public !== false) === (visibility === 'public'))
      .some((c) => [c.body, c.html_body, c.plain_body].some((b) => b !== undefined && squash(b).includes(wanted)));
  }

  async createTicket(ticket: NewTicket): Promise<CreatedTicket> {
    const response = await this.paced('batch', () =>
      ticketRequest<{ ticket: { id: number } }>(this.system, {
        method: 'POST',
        url: this.url('/api/v2/tickets.json'),
        headers: this.headers({ 'content-type': 'application/json' }),
        data: { ticket: { subject: ticket.subject, external_id: ticket.reference, comment: { body: ticket.description, public: false } } },
        timeout: this.options.timeoutMs,
      }),
    );
    return this.created(response.data.ticket.id);
  }

  async ticketByReference(reference: string): Promise<CreatedTicket | undefined> {
    const response = await ticketRequest<{ tickets?: { id: number; external_id?: string | null }[] }>(this.system, {
      method: 'GET',
      url: this.url(`/api/v2/tickets.json?external_id=${encodeURIComponent(reference)}`),
      headers: this.headers(),
      timeout: this.options.timeoutMs,
    });
    const found = (response.data.tickets ?? []).find((t) => t.external_id === reference);
    return found ? this.created(found.id) : undefined;
  }

  private created(ticketId: number): CreatedTicket {
    const id = String(ticketId);
    return { id, number: id, url: this.url(`/agent/tickets/${id}`) };
  }

  /** The authenticated user (the doctor's check that the credentials work). */
  async me(): Promise<{ id: number; email?: string; role?: string }> {
    const response = await ticketRequest<{ user: { id: number; email?: string; role?: string } }>(this.system, {
      method: 'GET',
      url: this.url('/api/v2/users/me.json'),
      headers: this.headers(),
      timeout: this.options.timeoutMs,
    });
    return response.data.user;
  }

  async ticketFieldExists(id: string): Promise<boolean> {
    try {
      await ticketRequest(this.system, {
        method: 'GET',
        url: this.url(`/api/v2/ticket_fields/${encodeURIComponent(id)}.json`),
        headers: this.headers(),
        timeout: this.options.timeoutMs,
      });
      return true;
    } catch (error) {
      if ((error as { status?: number }).status === 404) return false;
      throw error;
    }
  }

  private async upload(filename: string, contentType: string, file: { stream: NodeJS.ReadableStream; length?: number }): Promise<string> {
    const response = await ticketRequest<{ upload: { token: string } }>(this.system, {
      method: 'POST',
      url: this.url(`/api/v2/uploads.json?filename=${encodeURIComponent(filename)}`),
      headers: this.headers({
        'content-type': contentType,
        ...(file.length !== undefined ? { 'content-length': String(file.length) } : {}),
      }),
      data: file.stream,
      // For a stream: the longest pause in the upload, then the wait for the answer after it.
      timeout: this.options.timeoutMs,
    });
    return response.data.upload.token;
  }

  private async putTicket(ticketId: string, ticket: Record<string, unknown>, lane: 'interactive' | 'batch'): Promise<void> {
    await this.paced(lane, () =>
      ticketRequest(this.system, {
        method: 'PUT',
        url: this.url(`/api/v2/tickets/${encodeURIComponent(ticketId)}.json`),
        headers: this.headers({ 'content-type': 'application/json' }),
        data: { ticket },
        timeout: this.options.timeoutMs,
      }),
    );
  }

  private paced<T>(lane: 'interactive' | 'batch', write: () => Promise<T>): Promise<T> {
    return this.options.pacer ? this.options.pacer.run(lane, write) : write();
  }
}
