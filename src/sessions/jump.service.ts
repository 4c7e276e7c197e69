import { Inject, Injectable, Logger } from '@nestjs/common';
import { BeyondTrustError } from '../beyondtrust/beyondtrust.errors';
import { ClientScriptAction, clientScriptUrl } from '../beyondtrust/url-builders';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { DeliveryStore } from './delivery.store';
import { LinkStore } from './link.store';
import { sessionIdentity } from './session-identity';
import { RequestTarget } from '../tickets/request-target';
import { TicketEvent } from '../tickets/ticket-event';
import { TicketSystemError } from '../tickets/ticket-system.errors';
import { TicketsService } from '../tickets/tickets.service';

export interface JumpOutcome {
  url?: string;
  externalKey?: string;
  failure?: string;
}

/** The client-script action for a target: a Jump Item by search/tag/comment, else a host by method. */
export function jumpScript(t: RequestTarget): ClientScriptAction {
  if (t.jumpClient || t.jumpItemTag || t.jumpItemComment)
    return { action: 'start_jump_item_session', searchString: t.jumpClient, client: { tag: t.jumpItemTag, comments: t.jumpItemComment } };
  const target = (t.hostname ?? t.ip)!;
  switch (t.method) {
    case 'rdp':
      return { action: 'start_rdp_session', target, jumpoint: t.jumpoint, username: t.username };
    case 'shell':
      return { action: 'start_shell_jump_session', target, jumpoint: t.jumpoint, username: t.username };
    case 'vnc':
      return { action: 'start_vnc_session', target, jumpoint: t.jumpoint };
    default:
      return { action: 'push_and_start_remote', target, jumpoint: t.jumpoint };
  }
}

/** What a Jump goes to, as the ticket asked for it. */
const jumpTarget = (t: RequestTarget): string => t.jumpClient ?? t.jumpItemTag ?? t.jumpItemComment ?? t.hostname ?? t.ip ?? '';

/**
 * A ticket asks for a Jump to the user's machine: an internal note with the Client Scripting URL the
 * representative opens (it starts the Jump in their console), carrying the ticket's external key and
 * mapped custom fields, and a link ticket ↔ external key so the session, when it ends, is written back
 * to this ticket by the session-end flow.
 */
@Injectable()
export class JumpService {
  private readonly logger = new Logger('Jump');

  constructor(
    private readonly tickets: TicketsService,
    private readonly deliveries: DeliveryStore,
    private readonly links: LinkStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `signal` stops the note once the lock the job runs under is lost (another worker runs it). */
  async handle(event: TicketEvent, signal?: AbortSignal): Promise<JumpOutcome> {
    const writer = this.tickets.requireWriter(event.system);
    const outcome = await this.deliveries.noteOnce(event, writer, 'jumpNote', () => this.note(event), signal);
    this.logger.log(`${event.system} ticket ${event.ticket.number}: Jump ${outcome.url ? 'link written' : `refused: ${outcome.failure}`}`);
    return outcome;
  }

  /**
   * A Jump that failed for good: logged, and said on the ticket once. When the ticket system is what
   * fails, the note fails too: only logged.
   */
  async reportFailure(event: TicketEvent, error: Error): Promise<void> {
    const where = `${event.system} ticket ${event.ticket.number} (delivery ${event.deliveryId})`;
    this.logger.error(`${where}: Jump failed for good: ${error.message}`);
    try {
      await this.deliveries.giveUpNote(
        event,
        this.tickets.requireWriter(event.system),
        `rs-bridge could not prepare the Jump to ${jumpTarget(event.target ?? {})}: ${error.message}\n` +
          'No Jump link was written. Once the cause is fixed, ask for the Jump again.',
      );
    } catch (noteError) {
      this.logger.warn(`${where}: the note saying so could not be written either: ${(noteError as Error).message}`);
    }
  }

  private async note(event: TicketEvent): Promise<{ outcome: JumpOutcome; body: string }> {
    const { externalKey, custom: fields } = await sessionIdentity(this.config.rules, event);
    const t = event.target ?? {};
    const what = jumpTarget(t);
    try {
      if (!this.config.env.BT_SITE_URL) throw new TicketSystemError('beyondtrust', 'BeyondTrust is not configured (BT_SITE_URL)', false);
      const url = clientScriptUrl(this.config.env.BT_SITE_URL, jumpScript(t), { externalKey, fields });
      await this.links.record({
        system: event.system,
        ticketId: event.ticket.id,
        ticketNumber: event.ticket.number,
        ticketUrl: event.ticket.url,
        callbackUrl: event.callbackUrl,
        externalKey,
        shortKey: '',
        createdAt: new Date().toISOString(),
      });
      return {
        outcome: { url, externalKey },
        body:
          `Jump to ${what}: open this link where the BeyondTrust representative console is installed; it starts the session there.\n${url}\n` +
          `The session carries external key ${externalKey}, so its transcript and recordings come back to this ticket.`,
      };
    } catch (error) {
      if (!(error instanceof BeyondTrustError || error instanceof TicketSystemError) || error.retryable) throw error;
      return { outcome: { failure: error.message }, body: `rs-bridge could not prepare the Jump to ${what}: ${error.message}` };
    }
  }
}
