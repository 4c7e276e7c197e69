import type { StagedFile, TicketFile, TicketUpdate, TicketWriter, WriteContext } from './ticket-writer';

/**
 * Where the steps of one unit of work (a delivery, a session) are recorded: begun before the write,
 * done after it. Begun but not done means a run stopped in between (a crash, a deadline, a rollout):
 * the write may have landed.
 */
export interface WriteLedger {
  /** What this unit's markers name: the delivery id or the lsid. */
  readonly scope: string;
  isDone(step: string): Promise<boolean>;
  /** Marks the step begun; true when an earlier run had begun it already. */
  begin(step: string): Promise<boolean>;
  done(step: string, value: string): Promise<void>;
}

/** What a step writes: an internal note (optionally with files), or one update of the ticket. */
export type TicketWrite = { note: { text: string; html?: string; files?: TicketFile[]; staged?: StagedFile[] } } | { update: TicketUpdate };

export type WriteOnceResult = 'written' | 'found' | 'done';

/** Text with its whitespace runs made one space: a ticket system may re-wrap or trim what it stores. */
export const squash = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The text that makes one internal write recognisable on the ticket. */
export const writeMarker = (scope: string, step: string): string => `[rs-bridge ${scope} ${step}]`;

/**
 * Every write rs-bridge makes on a ticket goes through here, so that none is made twice, even when a
 * worker dies after the ticket system applied it and before we recorded it:
 *
 * 1. a step recorded as done is skipped;
 * 2. the step is marked begun, then written carrying a marker;
 * 3. a step found begun by an earlier run is first looked for on the ticket, by its marker, and only
 *    written when it is not there.
 *
 * The marker of an internal note or comment is `writeMarker(scope, step)`, appended to its text. A public
 * reply carries no machine text for the customer to see: its own body (which holds the unique short
 * key) is what is looked for among the public comments. Field updates and added tags carry no marker:
 * setting the same value twice is harmless, so they are simply written again. A generic system's writer
 * cannot be asked; its receiver drops repeats by the webhook-id, stable per delivery and step.
 *
 * `signal`, when given, stops the write before it is made (the lock the work ran under was lost).
 */
export async function writeOnce(
  ledger: WriteLedger,
  step: string,
  writer: TicketWriter,
  target: { ticketId: string; context: WriteContext },
  write: TicketWrite,
  options: { value?: string; signal?: AbortSignal } = {},
): Promise<WriteOnceResult> {
  if (await ledger.isDone(step)) return 'done';
  const marker = writeMarker(ledger.scope, step);
  const look = lookFor(write, marker);
  options.signal?.throwIfAborted();
  const begun = await ledger.begin(step);
  if (begun && look && (await writer.hasWritten(target.ticketId, look.text, look.visibility))) {
    await ledger.done(step, options.value ?? JSON.stringify({ at: new Date().toISOString(), found: true }));
    return 'found';
  }
  options.signal?.throwIfAborted();
  if ('note' in write) {
    const { text, html, files, staged } = write.note;
    await writer.addNote(
      target.ticketId,
      {
        text: text ? `${text}\n\n${marker}` : '',
        html: html ? `${html}\n<p><small>${marker}</small></p>` : undefined,
        marker,
        files,
        staged,
      },
      target.context,
    );
  } else {
    const { comment, note } = write.update;
    const marked = comment && !comment.public ? { ...comment, body: `${comment.body}\n\n${marker}` } : comment;
    const markedNote = note !== undefined ? `${note}\n\n${marker}` : undefined;
    await writer.update(
      target.ticketId,
      { ...write.update, comment: marked, ...(markedNote !== undefined ? { note: markedNote } : {}) },
      target.context,
    );
  }
  await ledger.done(step, options.value ?? JSON.stringify({ at: new Date().toISOString() }));
  return 'written';
}

/** What a retry looks for on the ticket, or nothing when writing again is harmless. */
function lookFor(write: TicketWrite, marker: string): { text: string; visibility: 'public' | 'internal' } | undefined {
  if ('note' in write) return { text: marker, visibility: 'internal' };
  // An update lands whole: its public reply, when it has one, says whether its note landed too.
  const { comment, note } = write.update;
  if (comment?.public) return { text: comment.body, visibility: 'public' };
  if (comment || note !== undefined) return { text: marker, visibility: 'internal' };
  return undefined;
}
