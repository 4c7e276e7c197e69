import { CallbackTargets } from '../../outbound/callback-targets';
import { standardWebhookHeaders } from '../../common/standard-webhooks';
import { ticketRequest } from '../ticket-http';
import { TicketLookup, TicketNote, TicketUpdate, TicketWriter, WriteBackExtras, WriteContext } from '../ticket-writer';

/** Files carried inside a callback (transcripts); anything larger is linked, never sent. */
const MAX_INLINE_FILE_BYTES = 1024 * 1024;

/**
 * A generic system's "ticket API" is its callback URL: each write is POSTed there, signed the Standard
 * Webhooks way with GENERIC_WEBHOOK_SECRET, with a webhook-id stable per delivery and step so the
 * receiver can drop a repeat. Without a callback URL there is nothing to write (the key is in the link
 * store and the synchronous API).
 */
export class CallbackWriter implements TicketWriter {
  readonly system = 'generic';
  /** Recordings are linked: a callback is no place for a video. */
  readonly defaultMaxAttachmentBytes = 0;
  readonly maxNoteLength = 1_000_000;
  /** Whatever the sender calls its ticket, without spaces. */
  readonly ticketIdPattern = /^\S{1,128}$/;
  /** Each write is a callback of its own (`publicReply`, `internalNote` steps), as receivers expect. */
  readonly replyNoteCost = 'request';

  async lookUpTicket(value: string): Promise<TicketLookup> {
    return this.ticketIdPattern.test(value) ? { ticket: { id: value, number: value } } : { invalid: true };
  }

  /** The callback receives the key and the note; the write-back rules' fields and tags are the other systems'. */
  writeBackExtras(): WriteBackExtras {
    return {};
  }

  /** Outcome rules name Zendesk, ServiceNow and Jira changes; a generic ticket gets only the rule's note. */
  async outcomeUpdate(): Promise<TicketUpdate> {
    return {};
  }

  constructor(
    /** The current secret, and the previous one during a rotation: each callback carries a signature of each. */
    private readonly secrets: string[],
    private readonly targets: CallbackTargets,
    private readonly timeoutMs = 30_000,
  ) {}

  async update(ticketId: string, update: TicketUpdate, context?: WriteContext): Promise<void> {
    await this.post({ type: 'ticket.update', ticketId, ...update }, context);
  }

  /** type `ticket.note`: the note as text and HTML, with small files inline (base64). */
  async addNote(ticketId: string, note: TicketNote, context?: WriteContext): Promise<void> {
    const files: { filename: string; contentType: string; contentBase64: string }[] = [];
    for (const file of note.files ?? []) {
      const { stream } = await file.open();
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of stream) {
        size += (chunk as Buffer).length;
        if (size > MAX_INLINE_FILE_BYTES) break;
        chunks.push(chunk as Buffer);
      }
      if (size <= MAX_INLINE_FILE_BYTES)
        files.push({ filename: file.filename, contentType: file.contentType, contentBase64: Buffer.concat(chunks).toString('base64') });
    }
    await this.post({ type: 'ticket.note', ticketId, text: note.text, html: note.html, marker: note.marker, files }, context);
  }

  /**
   * There is nothing to ask a callback URL; the receiver drops a repeat by its webhook-id, which is the
   * same for every attempt of one delivery's step, so writing again after a crash is what it expects.
   */
  async hasWritten(): Promise<boolean> {
    return false;
  }

  private async post(payload: Record<string, unknown>, context?: WriteContext): Promise<void> {
    if (!context?.callbackUrl) return;
    this.targets.checkSend(this.system, context.callbackUrl);
    const body = JSON.stringify({ ...payload, deliveryId: context.deliveryId, step: context.step });
    await ticketRequest(this.system, {
      method: 'POST',
      url: context.callbackUrl,
      data: body,
      headers: {
        'content-type': 'application/json',
        ...standardWebhookHeaders(this.secrets, `${context.deliveryId}.${context.step}`, body),
      },
      timeout: this.timeoutMs,
      ...this.targets.agents,
    });
  }
}
