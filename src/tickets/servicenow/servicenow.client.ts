import type { AxiosRequestConfig, AxiosResponse } from 'axios';
import { TicketSystemError } from '../ticket-system.errors';
import { basicAuth, ticketRequest, underBase } from '../ticket-http';
import type { TicketPacer } from '../ticket-pacer';
import { squash } from '../write-once';
import type { OutcomeRule, WriteBackRules } from '../../config/rules';
import {
  renderFields,
  CreatedTicket,
  NewTicket,
  TicketLookup,
  TicketNote,
  TicketUpdate,
  TicketWriter,
  WriteBackExtras,
  WriteContext,
} from '../ticket-writer';

export interface ServiceNowClientOptions {
  instanceUrl: string;
  table: string;
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  timeoutMs?: number;
  /** SERVICENOW_RATE_LIMIT_PER_MINUTE, shared by every pod; writes for a key go before session-end notes. */
  pacer?: TicketPacer;
}

/**
 * Writes to ServiceNow records through the Table API (`PATCH /api/now/table/{table}/{sys_id}`):
 * `comments` are visible to the caller, `work_notes` are internal. Files go through the Attachment API
 * (`POST /api/now/attachment/file`, streamed). Basic auth, or an OAuth token from `/oauth_token.do`
 * (client credentials), renewed before it expires and after a 401.
 */
export class ServiceNowClient implements TicketWriter {
  readonly system = 'servicenow';
  /** The instance default of com.glide.attachment.max_size (1024 MB). */
  readonly defaultMaxAttachmentBytes = 1024 * 1024 * 1024;
  /** Journal fields (work_notes) hold 4,000 characters unless an admin raised the limit. */
  readonly maxNoteLength = 4_000;
  /** The record's sys_id. */
  readonly ticketIdPattern = /^[0-9a-f]{32}$/;
  /** `comments` and `work_notes` are two fields of the record: one PATCH sets both. */
  readonly replyNoteCost = 'shared';

  /** Agents see the number (INC0012345); a sys_id is taken as it is. */
  async lookUpTicket(value: string): Promise<TicketLookup> {
    if (this.ticketIdPattern.test(value)) return { ticket: { id: value, number: value } };
    if (!/^[A-Za-z]{2,8}\d{5,12}$/.test(value)) return { invalid: true };
    const record = await this.findByNumber(value.toUpperCase());
    return record
      ? { ticket: { id: record.id, number: record.number } }
      : { missing: `ServiceNow has no record numbered ${value.toUpperCase()}` };
  }

  /** A key that is a record number (INC0012345), looked up on the instance. */
  async ticketFromKey(value: string): Promise<CreatedTicket | undefined> {
    const number = value.toUpperCase();
    return /^[A-Z]{2,8}\d{5,12}$/.test(number) ? this.findByNumber(number) : undefined;
  }

  writeBackExtras(rules: WriteBackRules): WriteBackExtras {
    return { fields: rules.servicenow.fields };
  }

  async outcomeUpdate(rule: OutcomeRule, render: (template: string) => Promise<string>): Promise<TicketUpdate> {
    const s = rule.servicenow;
    if (!s) return {};
    const fields = await renderFields(s.fields, render);
    if (s.close_code) fields.close_code = s.close_code;
    if (s.close_notes !== undefined) fields.close_notes = await render(s.close_notes);
    return { status: s.state, fields };
  }
  private token?: { value: string; expiresAt: number };

  constructor(private readonly options: ServiceNowClientOptions) {}

  private get base(): string {
    return underBase(this.options.instanceUrl);
  }

  private recordUrl(sysId = ''): string {
    return `${this.base}/api/now/table/${encodeURIComponent(this.options.table)}${sysId ? `/${encodeURIComponent(sysId)}` : ''}`;
  }

  update(sysId: string, update: TicketUpdate, context?: WriteContext): Promise<void> {
    return this.patch(sysId, update, context?.lane ?? 'interactive');
  }

  private async patch(sysId: string, update: TicketUpdate, lane: 'interactive' | 'batch'): Promise<void> {
    const body: Record<string, unknown> = { ...update.fields, ...(update.status ? { state: update.status } : {}) };
    if (update.comment) body[update.comment.public ? 'comments' : 'work_notes'] = update.comment.body;
    if (update.note !== undefined)
      body.work_notes = update.comment && !update.comment.public ? `${body.work_notes}\n\n${update.note}` : update.note;
    if (!Object.keys(body).length) return;
    await this.paced(lane, () => this.call({ method: 'PATCH', url: this.recordUrl(sysId), data: body }));
  }

  private paced<T>(lane: 'interactive' | 'batch', write: () => Promise<T>): Promise<T> {
    return this.options.pacer ? this.options.pacer.run(lane, write) : write();
  }

  /** Files first (each skipped when a file of its name is already attached), then the work note. */
  async addNote(sysId: string, note: TicketNote): Promise<void> {
    for (const file of note.files ?? []) {
      if (await this.hasAttachment(sysId, file.filename)) continue;
      const { stream, length } = await file.open();
      const query = new URLSearchParams({ table_name: this.options.table, table_sys_id: sysId, file_name: file.filename });
      // A stream cannot be sent twice, so no in-place retry after a 401 here: the token is fresh (renewed
      // ahead of expiry) and any failure is retried by the job.
      await this.paced('batch', async () =>
        ticketRequest(this.system, {
          method: 'POST',
          url: `${this.base}/api/now/attachment/file?${query.toString()}`,
          headers: {
            authorization: await this.authorization(),
            accept: 'application/json',
            'content-type': file.contentType,
            ...(length !== undefined ? { 'content-length': String(length) } : {}),
          },
          data: stream,
          // For a stream: the longest pause in the upload, then the wait for the answer after it.
          timeout: this.options.timeoutMs,
        }),
      );
    }
    if (note.text) await this.patch(sysId, { comment: { body: note.text, public: false } }, 'batch');
  }

  /**
   * The record's newest 100 journal entries of one field (sys_journal_field): `work_notes` for internal
   * notes, `comments` for what the caller sees. Compared here rather than with a LIKE condition: a reply's
   * text may hold `^`, which ends a condition of an encoded query.
   */
  async hasWritten(sysId: string, text: string, visibility: 'public' | 'internal' = 'internal'): Promise<boolean> {
    const query = new URLSearchParams({
      sysparm_query: `element_id=${sysId}^element=${visibility === 'public' ? 'comments' : 'work_notes'}^ORDERBYDESCsys_created_on`,
      sysparm_fields: 'value',
      sysparm_limit: '100',
    });
    const response = await this.call<{ result: { value?: string }[] }>({
      method: 'GET',
      url: `${this.base}/api/now/table/sys_journal_field?${query}`,
    });
    const wanted = squash(text);
    return response.data.result.some((entry) => squash(entry.value ?? '').includes(wanted));
  }

  async createTicket(ticket: NewTicket): Promise<CreatedTicket> {
    const response = await this.paced('batch', () =>
      this.call<{ result: { sys_id: string; number: string } }>({
        method: 'POST',
        url: this.recordUrl(),
        data: { short_description: ticket.subject, description: ticket.description, correlation_id: ticket.reference },
      }),
    );
    return this.created(response.data.result);
  }

  ticketByReference(reference: string): Promise<CreatedTicket | undefined> {
    return this.findOne('correlation_id', reference);
  }

  private created({ sys_id, number }: { sys_id: string; number: string }): CreatedTicket {
    return { id: sys_id, number, url: `${this.base}/nav_to.do?uri=${this.options.table}.do?sys_id=${sys_id}` };
  }

  /** The sys_id of the record with this number (INC0012345), for external keys that carry the number. */
  findByNumber(number: string): Promise<CreatedTicket | undefined> {
    return this.findOne('number', number);
  }

  private async findOne(field: 'number' | 'correlation_id', value: string): Promise<CreatedTicket | undefined> {
    const query = new URLSearchParams({ sysparm_query: `${field}=${value}`, sysparm_fields: `sys_id,number,${field}`, sysparm_limit: '1' });
    const response = await this.call<{ result: ({ sys_id: string; number: string } & Partial<Record<typeof field, string>>)[] }>({
      method: 'GET',
      url: `${this.recordUrl()}?${query}`,
    });
    // An instance that ignores a condition on a field its table lacks answers with any record: check it.
    const found = response.data.result.find((r) => r[field] === value);
    return found ? this.created(found) : undefined;
  }

  /** Reads one record of the configured table: credentials, roles and the table name all work. */
  async tableReadable(): Promise<void> {
    await this.call({ method: 'GET', url: `${this.recordUrl()}?sysparm_limit=1&sysparm_fields=sys_id` });
  }

  /** Whether the configured table has this field (sys_dictionary, readable by admins and integration roles). */
  async fieldExists(field: string): Promise<boolean> {
    const query = new URLSearchParams({
      sysparm_query: `name=${this.options.table}^element=${field}`,
      sysparm_fields: 'element',
      sysparm_limit: '1',
    });
    const response = await this.call<{ result: unknown[] }>({ method: 'GET', url: `${this.base}/api/now/table/sys_dictionary?${query}` });
    return response.data.result.length > 0;
  }

  private async hasAttachment(sysId: string, filename: string): Promise<boolean> {
    const query = new URLSearchParams({ sysparm_query: `table_sys_id=${sysId}^file_name=${filename}`, sysparm_limit: '1' });
    const response = await this.call<{ result: unknown[] }>({ method: 'GET', url: `${this.base}/api/now/attachment?${query}` });
    return response.data.result.length > 0;
  }

  /** A JSON call; with OAuth, a 401 renews the token and tries once more. */
  private async call<T = unknown>(config: AxiosRequestConfig): Promise<AxiosResponse<T>> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await ticketRequest<T>(this.system, {
          ...config,
          headers: { authorization: await this.authorization(), accept: 'application/json', 'content-type': 'application/json' },
          timeout: this.options.timeoutMs ?? 30_000,
        });
      } catch (error) {
        if (error instanceof TicketSystemError && error.status === 401 && this.options.clientId && attempt === 0) {
          this.token = undefined;
          continue;
        }
        throw error;
      }
    }
  }

  private async authorization(): Promise<string> {
    const o = this.options;
    if (!o.clientId) return basicAuth(o.username, o.password);
    if (this.token && this.token.expiresAt > Date.now() + 60_000) return `Bearer ${this.token.value}`;
    const response = await ticketRequest<{ access_token?: string; expires_in?: number }>(this.system, {
      method: 'POST',
      url: `${this.base}/oauth_token.do`,
      data: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: o.clientId,
        client_secret: o.clientSecret ?? '',
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      timeout: o.timeoutMs ?? 30_000,
    });
    if (!response.data?.access_token) throw new TicketSystemError(this.system, 'the OAuth answer carried no access_token', false);
    this.token = { value: response.data.access_token, expiresAt: Date.now() + Number(response.data.expires_in ?? 1800) * 1000 };
    return `Bearer ${this.token.value}`;
  }
}
