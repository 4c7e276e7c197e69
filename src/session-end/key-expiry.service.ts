import { Inject, Injectable, Logger } from '@nestjs/common';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { liquid, TicketSystemName } from '../config/rules';
import { LinkStore, SessionLink } from '../sessions/link.store';
import { TicketSystemError } from '../tickets/ticket-system.errors';
import { TicketsService } from '../tickets/tickets.service';
import { writeOnce } from '../tickets/write-once';
import { outcomeUpdate } from './outcomes';
import { ArtifactStore, KEY_NOTE_STEP, keyNoteScope } from './session-stores';

/** How long after its expiry a key is looked at: a session started at the last minute is listed by then. */
const GRACE_MS = 60_000;

/**
 * A session key whose `expires` passed: outcomes.expiredKey moves its ticket on when no session started
 * under its external key (an optional note, then the change), once; and a key note that was deferred to
 * the session's first note (link.keyNote) and that no session note carried yet is written now, in the
 * same note as the expiry's when there is one. Run by the session poll; the appliance's
 * SupportSessionListing for the key's lifetime says whether a session used it (asked only for the rule).
 */
@Injectable()
export class KeyExpiryService {
  private readonly logger = new Logger('KeyExpiry');

  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly links: LinkStore,
    private readonly tickets: TicketsService,
    private readonly artifacts: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check(now = Date.now()): Promise<string[]> {
    const rule = this.config.rules.outcomes.expiredKey;
    const moved: string[] = [];
    for (const { member, link } of await this.links.expired(now - GRACE_MS)) {
      const unused = rule !== undefined && !(await this.used(link));
      if (unused || link.keyNote) await this.expire(link, unused);
      if (unused) moved.push(`${link.system}:${link.ticketNumber}`);
      // Only once it is handled: a failure above leaves it for the next poll.
      await this.links.unwatchExpiry(member);
    }
    return moved;
  }

  private async used(link: SessionLink & { expiresAt: string }): Promise<boolean> {
    const from = Math.floor(Date.parse(link.createdAt) / 1000) - 60;
    const to = Math.ceil(Date.parse(link.expiresAt) / 1000) + 60;
    const sessions = await this.beyondtrust.reporting.supportSessionListing({ startTime: from, duration: Math.max(1, to - from) });
    return sessions.some((s) => s.externalKey === link.externalKey);
  }

  private async expire(link: SessionLink & { expiresAt: string }, unused: boolean): Promise<void> {
    const rule = this.config.rules.outcomes.expiredKey;
    const system = link.system as TicketSystemName;
    const writer = this.tickets.writer(system);
    if (!writer) return;
    const scope = `key-${link.shortKey}`;
    const ledger = this.artifacts.ledger(scope);
    // An expiry's note and update are batch work: they yield to the keys' replies waiting for the write budget.
    const target = {
      ticketId: link.ticketId,
      context: { deliveryId: scope, step: 'expired', callbackUrl: link.callbackUrl, lane: 'batch' as const },
    };
    const values = {
      key: { shortKey: link.shortKey, url: link.keyUrl ?? '', expiresAt: link.expiresAt, externalKey: link.externalKey },
      ticket: { id: link.ticketId, number: link.ticketNumber },
    };
    // Claimed as the session note claims it (first claimant wins, atomically), so a session ending just
    // as its key expires cannot put the key note on the ticket a second time; a retried expiry sees its own
    // claim and writes the note, once (write-once below).
    const claimant = `expiry:${link.shortKey}`;
    const claimed = link.keyNote
      ? await this.artifacts.claim(keyNoteScope(link.system, link.ticketId, link.shortKey), KEY_NOTE_STEP, JSON.stringify({ by: claimant }))
      : undefined;
    const keyNote = link.keyNote && claimed && (JSON.parse(claimed) as { by?: string }).by === claimant ? link.keyNote : '';
    const note = unused && rule?.note ? (await liquid.parseAndRender(rule.note, values)).trim() : '';
    const text = [keyNote, note].filter(Boolean).join('\n\n');
    if (text) await writeOnce(ledger, 'expired.note', writer, target, { note: { text } });
    if (keyNote) {
      this.logger.log(`${system} ticket ${link.ticketNumber}: the note of session key ${link.shortKey} written as it expired`);
    }
    if (!unused || !rule) return;
    const update = await outcomeUpdate(rule, writer, values);
    if (!(update.status || update.addTags?.length || Object.keys(update.fields ?? {}).length)) return;
    try {
      await writeOnce(ledger, 'expired.update', writer, target, { update });
    } catch (error) {
      if (!(error instanceof TicketSystemError) || error.retryable) throw error;
      await writeOnce(ledger, 'expired.refused', writer, target, {
        note: { text: `rs-bridge could not move this ticket on after session key ${link.shortKey} expired unused: ${error.message}` },
      });
    }
    this.logger.log(`${system} ticket ${link.ticketNumber}: session key ${link.shortKey} expired unused`);
  }
}
