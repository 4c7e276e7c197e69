import { Injectable, Logger } from '@nestjs/common';
import { DomainErrorKind } from '../common/domain-error';
import { validatedBody } from '../common/validated-body';
import { DeliveryStore } from '../sessions/delivery.store';
import { TicketEvent } from '../tickets/ticket-event';
import { TicketsService } from '../tickets/tickets.service';
import { UpscopeError } from '../upscope/upscope.client';
import { UpscopeService } from '../upscope/upscope.service';
import { CobrowseError } from './cobrowse.errors';
import { WatchUrlRequestDto } from './watch-url.dto';

export interface WatchUrlAnswer {
  watchUrl: string;
  visitor: { shortId: string; name?: string; email?: string; online?: boolean };
}

/** Upscope's failure as the caller's: our credentials refused is Upscope refusing us, not the caller. */
const KIND: Record<UpscopeError['kind'], DomainErrorKind> = {
  not_found: 'not_found',
  unauthorized: 'upstream',
  refused: 'upstream',
  unavailable: 'unavailable',
};

export interface CobrowseOutcome {
  watchUrl?: string;
  visitor?: string;
  note: 'watch_url' | 'no_visitor' | 'refused';
}

/**
 * Flow 4, a ticket asks for a co-browse: find the customer among Upscope's visitors, make a watch URL for
 * the ticket's agent, and put it on the ticket as an internal note (never public: the link grants
 * control of the customer's browser). No visitor, or a refusal, becomes a note that says what to do.
 */
@Injectable()
export class CobrowseService {
  private readonly logger = new Logger('Cobrowse');

  constructor(
    private readonly upscope: UpscopeService,
    private readonly tickets: TicketsService,
    private readonly deliveries: DeliveryStore,
  ) {}

  /** `signal` stops the note once the lock the job runs under is lost (another worker runs it). */
  async handle(event: TicketEvent, signal?: AbortSignal): Promise<CobrowseOutcome> {
    const writer = this.tickets.requireWriter(event.system);
    const outcome = await this.deliveries.noteOnce(event, writer, 'cobrowseNote', (done) => this.note(event, done), signal);
    this.logger.log(`${event.system} ticket ${event.ticket.number}: co-browse ${outcome.note}`);
    return outcome;
  }

  /**
   * A co-browse that failed for good (Upscope down all day, the ticket system refusing the note): logged,
   * and said on the ticket once. When the ticket system is what fails, the note fails too: only logged.
   */
  async reportFailure(event: TicketEvent, error: Error): Promise<void> {
    const where = `${event.system} ticket ${event.ticket.number} (delivery ${event.deliveryId})`;
    this.logger.error(`${where}: co-browse failed for good: ${error.message}`);
    try {
      await this.deliveries.giveUpNote(
        event,
        this.tickets.requireWriter(event.system),
        `rs-bridge could not start the co-browse this ticket asked for: ${error.message}\n` +
          'No watch URL was made. Once the cause is fixed (Upscope, the ticket system), ask for the co-browse again.',
      );
    } catch (noteError) {
      this.logger.warn(`${where}: the note saying so could not be written either: ${(noteError as Error).message}`);
    }
  }

  /**
   * For bots and in-ticket buttons: the same search as a ticket's co-browse, the watch URL answered to the
   * caller instead of noted on a ticket. Not configured is a 404 before the body is looked at.
   */
  async watchUrl(body: unknown): Promise<WatchUrlAnswer> {
    if (!this.upscope.configured) throw new CobrowseError('not_found', 'not_found', 'Co-browsing is not configured (set UPSCOPE_BASE_URL)');
    const request = validatedBody(WatchUrlRequestDto, body);
    const v = request.visitor;
    if (!v.id && !v.lookupCode && !v.email && !v.query)
      throw new CobrowseError('invalid', 'validation_failed', 'visitor needs id, lookupCode, email or query');
    try {
      const { visitor, searched } = await this.upscope.find({ visitorId: v.id, lookupCode: v.lookupCode, email: v.email, query: v.query });
      if (!visitor) throw new CobrowseError('not_found', 'visitor_not_found', `No Upscope visitor matches ${searched}`);
      const watchUrl = await this.upscope.watchUrl(visitor, request.agent, request.metadata ?? {}, request.permissions ?? {});
      return { watchUrl, visitor: { shortId: visitor.shortId, name: visitor.name, email: visitor.email, online: visitor.online } };
    } catch (error) {
      if (error instanceof UpscopeError) throw new CobrowseError(KIND[error.kind], `upscope_${error.kind}`, error.message);
      throw error;
    }
  }

  private async note(event: TicketEvent, done: Record<string, string>): Promise<{ outcome: CobrowseOutcome; body: string }> {
    const t = event.target ?? {};
    try {
      const { visitor, searched } = await this.upscope.find({
        visitorId: t.visitorId,
        lookupCode: t.lookupCode,
        email: t.email ?? (t.query ? undefined : event.ticket.requester?.email),
        query: t.query,
      });
      if (!visitor)
        return {
          outcome: { note: 'no_visitor' },
          body:
            `Co-browse: no online Upscope visitor matches ${searched}.\n` +
            'Ask the customer to keep your site open and read out the lookup code its co-browsing widget shows, ' +
            'then ask again with that code (target.lookupCode).',
        };
      // A retry after the note failed reuses the watch URL already made.
      const watchUrl =
        done.watchUrl ?? (await this.upscope.watchUrl(visitor, event.assignee ?? {}, { ticket: `${event.system}:${event.ticket.number}` }));
      await this.deliveries.mark(event.system, event.deliveryId, 'watchUrl', watchUrl);
      const who = [visitor.name, visitor.email].filter(Boolean).join(', ') || `visitor ${visitor.shortId}`;
      return {
        outcome: { note: 'watch_url', watchUrl, visitor: visitor.shortId },
        body:
          `Co-browse with ${who} (Upscope visitor ${visitor.shortId}) for ${event.assignee?.name || 'the assigned agent'}:\n${watchUrl}\n` +
          "This link gives control of the customer's browser: keep it internal.",
      };
    } catch (error) {
      if (!(error instanceof UpscopeError) || error.retryable) throw error;
      return {
        outcome: { note: 'refused' },
        body: `Co-browse could not start: ${error.message}.`,
      };
    }
  }
}
