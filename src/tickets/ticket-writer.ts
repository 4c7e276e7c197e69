import type { Readable } from 'node:stream';
import type { JiraFieldValue, OutcomeRule, WriteBackRules } from '../config/rules';

/** What the session flows write on a ticket; each ticket system implements it its own way. */
export interface TicketUpdate {
  comment?: { body: string; public: boolean };
  /**
   * An internal note in the same update as a public `comment`, only for writers whose `replyNoteCost` is
   * `shared` (ServiceNow: `comments` and `work_notes` in one PATCH).
   */
  note?: string;
  /** System-specific field id → value: a string, or the JSON the system's API takes for the field (Jira). */
  fields?: Record<string, unknown>;
  /** Tags to add (never replacing the ticket's own). */
  addTags?: string[];
  /** Moves the ticket on: Zendesk `status`, ServiceNow `state`, a Jira workflow transition (name or id). */
  status?: string;
}

/** Which delivery and which of its steps a write belongs to, for writers that need it (callbacks). */
export interface WriteContext {
  deliveryId: string;
  step: string;
  callbackUrl?: string;
  /**
   * Where a system's writes are paced (ticket-pacer.ts), the lane an update waits in: `interactive` unless
   * said (a key's reply: the customer waits for it); `batch` for an update nobody watches live, which
   * yields to every reply waiting. A note (addNote) always waits in `batch`.
   */
  lane?: 'interactive' | 'batch';
}

/** A file to attach, opened only when it is sent (so a retry opens it again) and streamed, never held. */
export interface TicketFile {
  filename: string;
  contentType: string;
  open(): Promise<{ stream: Readable; length?: number }>;
}

/** A file whose name and type are known once it is opened (a recording: the appliance's answer names it). */
export interface OpenedFile {
  filename: string;
  contentType: string;
  stream: Readable;
  length?: number;
}

/**
 * A file already sent to the ticket system, waiting for the note that carries it (a Zendesk upload
 * token): staging several and writing the note once makes one ticket update of them all.
 */
export interface StagedFile {
  filename: string;
  token: string;
}

/**
 * An internal note, optionally with files. `marker` is a text unique to this write (it appears in the
 * note) so that a write interrupted after it landed can be recognised instead of repeated.
 */
export interface TicketNote {
  text: string;
  /** Writers whose `markup` is `html` get this instead of `text`. */
  html?: string;
  marker: string;
  files?: TicketFile[];
  /** Files staged earlier (stageFile), carried by this note too. */
  staged?: StagedFile[];
}

export interface NewTicket {
  subject: string;
  description: string;
  /**
   * Stored on the ticket (Zendesk `external_id`, ServiceNow `correlation_id`) so that a retry after a
   * crash between creating the ticket and recording it finds the ticket instead of creating a second.
   */
  reference: string;
}

export interface CreatedTicket {
  id: string;
  number: string;
  url?: string;
}

/** What an agent's ticket id or number names on a system: the ticket, not this system's format, or no such ticket (why). */
export type TicketLookup = { ticket: { id: string; number: string } } | { invalid: true } | { missing: string };

/** Each template of a field map rendered: a string value is a template; in a JSON value, each string in it is. */
export async function renderFields(
  templates: Record<string, unknown> | undefined,
  render: (template: string) => Promise<string>,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(templates ?? {})) out[k] = await renderValue(v, render);
  return out;
}

async function renderValue(value: unknown, render: (template: string) => Promise<string>): Promise<unknown> {
  if (typeof value === 'string') return render(value);
  if (Array.isArray(value)) return Promise.all(value.map((v) => renderValue(v, render)));
  if (value && typeof value === 'object') return renderFields(value as Record<string, unknown>, render);
  return value;
}

/**
 * The write-back rules' extras for a system: its field templates by field id (a Liquid string, or a JSON
 * value whose strings are Liquid, rendered by `renderFields`) and the tags or labels it adds.
 */
export interface WriteBackExtras {
  fields?: Record<string, JiraFieldValue>;
  tags?: string[];
}

export interface TicketWriter {
  readonly system: string;
  /** Largest file this system accepts by default (0: it takes no files; links are written instead). */
  readonly defaultMaxAttachmentBytes: number;
  /** Longest note this system keeps; longer notes are split. */
  readonly maxNoteLength: number;
  /** `html` when the system shows notes and transcripts as HTML (Zendesk); unset: plain text. */
  readonly markup?: 'html';
  /** The ticket id the session-key API takes for this system (the id its API addresses a ticket by). */
  readonly ticketIdPattern: RegExp;
  /**
   * What an internal note written beside a public reply costs (the key's write-back):
   * `shared`: nothing more, one update carries both (`TicketUpdate.note`);
   * `request`: a request of its own that no per-account update limit counts;
   * `update`: an update of its own, counted against the account's update limit (one comment per update).
   * `writeBack.internalNoteTiming: auto` defers the key's note to the session's first note only for `update`.
   */
  readonly replyNoteCost: 'shared' | 'request' | 'update';
  /** The id or number an agent sees (in-ticket views) → the ticket; a number may be looked up on the system. */
  lookUpTicket(idOrNumber: string): Promise<TicketLookup>;
  /**
   * A session's external key in this system's own ticket format (a representative may have typed it), as
   * the ticket it names; unset where the system has no such format.
   */
  ticketFromKey?(value: string): Promise<CreatedTicket | undefined>;
  /** This system's part of the write-back rules (fields and tags beside the internal note). */
  writeBackExtras(rules: WriteBackRules): WriteBackExtras;
  /**
   * This system's part of an outcome rule as a change (status or transition, fields, tags), each template
   * passed through `render` (Liquid, trimmed); `{}` when the rule says nothing for this system.
   */
  outcomeUpdate(rule: OutcomeRule, render: (template: string) => Promise<string>): Promise<TicketUpdate>;
  update(ticketId: string, update: TicketUpdate, context?: WriteContext): Promise<void>;
  addNote(ticketId: string, note: TicketNote, context?: WriteContext): Promise<void>;
  /**
   * Systems that take several files on one comment (Zendesk): sends a file ahead of the note that will
   * carry it. `key` names it for good: a second call with the same key within `stagedFileTtlMs` returns
   * the same staged file without opening the file again (a retried note never downloads or uploads twice).
   * Unset: files go with the note only, each its own call (ServiceNow, Jira) or as links (generic).
   */
  stageFile?(ticketId: string, key: string, open: () => Promise<OpenedFile>): Promise<StagedFile>;
  /** How long a staged file stays usable by a note. */
  readonly stagedFileTtlMs?: number;
  /**
   * Whether a recent comment of this visibility (internal notes, or public replies) contains `text`, the
   * marker of a write that may have landed before a crash (see write-once.ts). Whitespace is not compared.
   */
  hasWritten(ticketId: string, text: string, visibility?: 'public' | 'internal'): Promise<boolean>;
  createTicket?(ticket: NewTicket): Promise<CreatedTicket>;
  /** The ticket createTicket made with this reference, if there is one. */
  ticketByReference?(reference: string): Promise<CreatedTicket | undefined>;
}
