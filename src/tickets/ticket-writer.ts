import type { Readable } from 'node:stream';
import type { OutcomeRule, WriteBackRules } from '../config/rules';

/** What the session flows write on a ticket; each ticket system implements it its own way. */
export interface TicketUpdate {
  comment?: { body: string; public: boolean };
  /**
   * An internal note in the same update as a public `comment`, only for writers whose `replyNoteCost` is
   * `shared` (ServiceNow: `comments` and `work_notes` in one PATCH).
   */
  note?: string;
  /** System-specific field id → value. */
  fields?: Record<string, string>;
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
}

/** A file to attach, opened only when it is sent (so a retry opens it again) and streamed, never held. */
export interface TicketFile {
  filename: string;
  contentType: string;
  open(): Promise<{ stream: Readable; length?: number }>;
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

/** Each template of a field map rendered. */
export async function renderFields(
  templates: Record<string, string> | undefined,
  render: (template: string) => Promise<string>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(templates ?? {})) out[k] = await render(v);
  return out;
}

/** The write-back rules' extras for a system: its field templates (Liquid, by field id) and the tags or labels it adds. */
export interface WriteBackExtras {
  fields?: Record<string, string>;
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
   * Whether a recent comment of this visibility (internal notes, or public replies) contains `text`, the
   * marker of a write that may have landed before a crash (see write-once.ts). Whitespace is not compared.
   */
  hasWritten(ticketId: string, text: string, visibility?: 'public' | 'internal'): Promise<boolean>;
  createTicket?(ticket: NewTicket): Promise<CreatedTicket>;
  /** The ticket createTicket made with this reference, if there is one. */
  ticketByReference?(reference: string): Promise<CreatedTicket | undefined>;
}
