import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { bearerOrBasic, ticketRequest, underBase } from '../ticket-http';
import { TicketSystemError } from '../ticket-system.errors';
import { squash } from '../write-once';
import type { OutcomeRule, WriteBackRules } from '../../config/rules';
import {
  CreatedTicket,
  NewTicket,
  renderFields,
  TicketFile,
  TicketLookup,
  TicketNote,
  TicketUpdate,
  TicketWriter,
  WriteBackExtras,
} from '../ticket-writer';
import { adfToText, textToAdf } from './adf';

export interface JiraClientOptions {
  baseUrl: string;
  email?: string;
  apiToken?: string;
  oauthToken?: string;
  /** Where createTicket makes requests (RSB_AUTO_CREATE=jira). */
  serviceDeskId?: string;
  requestTypeId?: string;
  timeoutMs?: number;
}

/** The comment property Jira Service Management reads to show a comment to agents only. */
export const INTERNAL_PROPERTY = 'sd.public.comment';

interface JiraComment {
  body?: unknown;
  jsdPublic?: boolean;
  properties?: { key: string; value?: { internal?: boolean } }[];
}

/**
 * Writes to Jira issues through the platform REST API v3: comments in Atlassian Document Format, an
 * internal one carrying the `sd.public.comment` property ({ internal: true }) that Jira Service
 * Management reads; fields and labels with `PUT /rest/api/3/issue/{key}`; files with the issue
 * attachments API (multipart, `X-Atlassian-Token: no-check`, streamed). Requests are created with the
 * service desk API (`POST /rest/servicedeskapi/request`). Issues are addressed by key.
 */
export class JiraClient implements TicketWriter {
  readonly system = 'jira';
  /** Jira Cloud's default attachment limit (an admin may lower it: set RSB_MAX_ATTACHMENT_BYTES). */
  readonly defaultMaxAttachmentBytes = 1024 * 1024 * 1024;
  /** A comment body holds 32,767 characters; keep room for the document's markup. */
  readonly maxNoteLength = 30_000;
  /** The issue key (SD-12). */
  readonly ticketIdPattern = /^[A-Z][A-Z0-9_]*-\d+$/;
  /** Each comment is a request of its own, and Jira counts no per-issue update limit that a deferral would spare. */
  readonly replyNoteCost = 'request';

  /** Agents see the issue key, in any case. */
  async lookUpTicket(value: string): Promise<TicketLookup> {
    if (!/^[A-Za-z][A-Za-z0-9_]*-\d+$/.test(value)) return { invalid: true };
    const key = value.toUpperCase();
    return { ticket: { id: key, number: key } };
  }

  /** A key that is an issue key (SD-12, in any case). */
  async ticketFromKey(value: string): Promise<CreatedTicket | undefined> {
    const key = value.toUpperCase();
    return this.ticketIdPattern.test(key) ? { id: key, number: key } : undefined;
  }

  writeBackExtras(rules: WriteBackRules): WriteBackExtras {
    return { fields: rules.jira.fields, tags: rules.jira.labels };
  }

  async outcomeUpdate(rule: OutcomeRule, render: (template: string) => Promise<string>): Promise<TicketUpdate> {
    const j = rule.jira;
    return j ? { status: j.transition, fields: await renderFields(j.fields, render), addTags: j.labels } : {};
  }
  private readonly authorization: string;

  constructor(private readonly options: JiraClientOptions) {
    this.authorization = bearerOrBasic(options.oauthToken, options.email, options.apiToken);
  }

  private url(path: string): string {
    return underBase(this.options.baseUrl, path);
  }

  private issuePath(key: string, rest = ''): string {
    return `/rest/api/3/issue/${encodeURIComponent(key)}${rest}`;
  }

  private call<T = unknown>(method: string, path: string, data?: unknown, headers: Record<string, string> = {}) {
    return ticketRequest<T>(this.system, {
      method,
      url: this.url(path),
      headers: {
        authorization: this.authorization,
        accept: 'application/json',
        ...(data !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      data,
      timeout: this.options.timeoutMs,
    });
  }

  async update(key: string, update: TicketUpdate): Promise<void> {
    const fields = update.fields ?? {};
    if (Object.keys(fields).length || update.addTags?.length) {
      await this.call('PUT', `${this.issuePath(key)}?notifyUsers=false`, {
        ...(Object.keys(fields).length ? { fields } : {}),
        // `update.labels.add` adds; `fields.labels` would replace the issue's labels.
        ...(update.addTags?.length ? { update: { labels: update.addTags.map((label) => ({ add: label })) } } : {}),
      });
    }
    if (update.status) await this.transition(key, update.status);
    if (update.comment) await this.comment(key, update.comment.body, update.comment.public);
    if (update.note !== undefined) await this.comment(key, update.note, false);
  }

  /**
   * A workflow transition by name or id, among those the issue's workflow offers from its status now.
   * One it does not offer, or that its validators refuse (400), is a permanent TicketSystemError whose
   * message says why: the caller writes it on the issue instead of retrying.
   */
  async transition(key: string, wanted: string): Promise<void> {
    const available = await this.call<{ transitions?: { id: string; name: string; to?: { name?: string } }[] }>(
      'GET',
      this.issuePath(key, '/transitions'),
    );
    const list = available.data.transitions ?? [];
    const found = list.find((t) => t.id === wanted || t.name.toLowerCase() === wanted.toLowerCase());
    if (!found)
      throw new TicketSystemError(
        this.system,
        `the workflow of ${key} offers no transition "${wanted}" now (available: ${list.map((t) => `${t.name} (${t.id})`).join(', ') || 'none'})`,
        false,
        409,
      );
    await this.call('POST', this.issuePath(key, '/transitions'), { transition: { id: found.id } });
  }

  async addNote(key: string, note: TicketNote): Promise<void> {
    for (const file of note.files ?? []) {
      if (await this.hasAttachment(key, file.filename)) continue;
      await this.attach(key, file);
    }
    if (note.text) await this.comment(key, note.text, false);
  }

  private async comment(key: string, text: string, visible: boolean): Promise<void> {
    await this.call('POST', this.issuePath(key, '/comment'), {
      body: textToAdf(text),
      properties: [{ key: INTERNAL_PROPERTY, value: { internal: !visible } }],
    });
  }

  /** The newest 100 comments, internal ones told apart by `jsdPublic` or the sd.public.comment property. */
  async hasWritten(key: string, text: string, visibility: 'public' | 'internal' = 'internal'): Promise<boolean> {
    const response = await this.call<{ comments?: JiraComment[] }>(
      'GET',
      this.issuePath(key, '/comment?orderBy=-created&maxResults=100&expand=properties'),
    );
    const wanted = squash(text);
    return (response.data.comments ?? [])
      .filter((c) => isPublic(c) === (visibility === 'public'))
      .some((c) => squash(adfToText(c.body)).includes(wanted));
  }

  async createTicket(ticket: NewTicket): Promise<CreatedTicket> {
    const response = await this.call<{ issueKey: string }>('POST', '/rest/servicedeskapi/request', {
      serviceDeskId: this.options.serviceDeskId,
      requestTypeId: this.options.requestTypeId,
      requestFieldValues: { summary: ticket.subject, description: `${ticket.description}\n\nReference: ${ticket.reference}` },
    });
    const key = response.data.issueKey;
    // The label is what ticketByReference searches for; a request type need not offer the labels field.
    await this.update(key, { addTags: [referenceLabel(ticket.reference)] });
    return this.created(key);
  }

  async ticketByReference(reference: string): Promise<CreatedTicket | undefined> {
    const jql = `labels = "${referenceLabel(reference)}"`;
    const response = await this.call<{ issues?: { key: string }[] }>(
      'GET',
      `/rest/api/3/search/jql?${new URLSearchParams({ jql, fields: 'labels', maxResults: '1' })}`,
    );
    const found = response.data.issues?.[0];
    return found ? this.created(found.key) : undefined;
  }

  /** The authenticated user (the credentials work). */
  async myself(): Promise<{ accountId: string; emailAddress?: string }> {
    return (await this.call<{ accountId: string; emailAddress?: string }>('GET', '/rest/api/3/myself')).data;
  }

  private created(key: string): CreatedTicket {
    return { id: key, number: key, url: this.url(`/browse/${key}`) };
  }

  private async hasAttachment(key: string, filename: string): Promise<boolean> {
    const response = await this.call<{ fields?: { attachment?: { filename: string }[] } }>(
      'GET',
      this.issuePath(key, '?fields=attachment'),
    );
    return (response.data.fields?.attachment ?? []).some((a) => a.filename === filename);
  }

  /** One file as multipart/form-data (field `file`), streamed between a header and a trailer. */
  private async attach(key: string, file: TicketFile): Promise<void> {
    const { stream, length } = await file.open();
    const boundary = `rsb-${randomBytes(12).toString('hex')}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename.replace(/["\r\n]/g, '_')}"\r\n` +
        `Content-Type: ${file.contentType}\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const body = Readable.from(
      (async function* () {
        yield head;
        for await (const chunk of stream) yield chunk as Buffer;
        yield tail;
      })(),
    );
    await ticketRequest(this.system, {
      method: 'POST',
      url: this.url(this.issuePath(key, '/attachments')),
      headers: {
        authorization: this.authorization,
        accept: 'application/json',
        'x-atlassian-token': 'no-check',
        'content-type': `multipart/form-data; boundary=${boundary}`,
        ...(length !== undefined ? { 'content-length': String(head.length + length + tail.length) } : {}),
      },
      data: body,
      // For a stream: the longest pause in the upload, then the wait for the answer after it.
      timeout: this.options.timeoutMs,
    });
  }
}

const isPublic = (c: JiraComment): boolean => {
  if (typeof c.jsdPublic === 'boolean') return c.jsdPublic;
  return !c.properties?.some((p) => p.key === INTERNAL_PROPERTY && p.value?.internal === true);
};

/** `rs-bridge:<lsid>` as a label (labels hold no spaces). */
export const referenceLabel = (reference: string): string => reference.replace(/[^\w.-]+/g, '-');
