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
import { ArtifactStore } from './session-stores';

/** How long after its expiry a key is looked at: a session started at the last minute is listed by then. */
const GRACE_MS = 60_000;

/**
 * outcomes.expiredKey: a session key whose `expires` passed with no session started under its external
 * key moves its ticket on (an optional note, then the change), once. Run by the session poll; the
 * appliance's SupportSessionListing for the key's lifetime says whether a session used it.
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
      if (rule && !(await this.used(link))) {
        await this.expire(link);
        moved.push(`${link.system}:${link.ticketNumber}`);
      }
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

  private async expire(link: SessionLink & { expiresAt: string }): Promise<void> {
    const rule = this.config.rules.outcomes.expiredKey!;
    const system = link.system as TicketSystemName;
    const writer = this.tickets.writer(system);
    if (!writer) return;
    const scope = `key-${link.shortKey}`;
    const ledger = this.artifacts.ledger(scope);
    const target = { ticketId: link.ticketId, context: { deliveryId: scope, step: 'expired', callbackUrl: link.callbackUrl } };
    const values = {
      key: { shortKey: link.shortKey, url: link.keyUrl ?? '', expiresAt: link.expiresAt, externalKey: link.externalKey },
      ticket: { id: link.ticketId, number: link.ticketNumber },
    };
    const note = rule.note && (await liquid.parseAndRender(rule.note, values)).trim();
    if (note) await writeOnce(ledger, 'expired.note', writer, target, { note: { text: note } });
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
