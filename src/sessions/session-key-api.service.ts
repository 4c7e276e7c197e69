import { HttpStatus, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BeyondTrustError } from '../beyondtrust/beyondtrust.errors';
import { ApiError } from '../common/api-error';
import { TICKET_SYSTEMS, TicketSystemName } from '../config/rules';
import { CallbackTargets } from '../outbound/callback-targets';
import { TicketSystemError } from '../tickets/ticket-system.errors';
import { TicketsService } from '../tickets/tickets.service';
import { SessionKeyService } from './session-key.service';

/** What an in-ticket button knows about the ticket; everything is optional, the routing rules use what is given. */
export interface SessionKeyRequest {
  number?: string;
  url?: string;
  subject?: string;
  priority?: string;
  group?: string;
  tags?: string[];
  requester?: { name?: string; email?: string };
  fields?: Record<string, string>;
  callbackUrl?: string;
}

export interface SessionKeyAnswer {
  shortKey: string;
  keyUrl: string;
  expiresAt?: string;
  queue: string;
  available: boolean;
  externalKey?: string;
}

/**
 * The ticket → session key use case answered synchronously (in-ticket buttons): the same work as the
 * webhook flow, keyed by the caller's `Idempotency-Key` so a retried call returns the same key.
 */
@Injectable()
export class SessionKeyApiService {
  constructor(
    private readonly sessions: SessionKeyService,
    private readonly tickets: TicketsService,
    private readonly callbacks: CallbackTargets,
  ) {}

  async create(system: string, ticketId: string, body: SessionKeyRequest, idempotencyKey?: string): Promise<SessionKeyAnswer> {
    if (!(TICKET_SYSTEMS as readonly string[]).includes(system) || !this.tickets.enabled(system as TicketSystemName)) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'not_found',
        `Ticket system "${system}" is not configured (configured: ${TICKET_SYSTEMS.filter((s) => this.tickets.enabled(s)).join(', ') || 'none'})`,
      );
    }
    const name = system as TicketSystemName;
    if (!this.tickets.requireWriter(name).ticketIdPattern.test(ticketId))
      throw new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', `"${ticketId}" is not a ${name} ticket id`);
    if (idempotencyKey !== undefined && !/^[\w.:-]{1,128}$/.test(idempotencyKey))
      throw new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', 'Idempotency-Key must be 1-128 letters, digits or . : _ -');
    this.callbacks.checkRequest(body.callbackUrl);
    try {
      const outcome = await this.sessions.handle({
        system: name,
        // Scoped to the ticket: the same Idempotency-Key sent for another ticket is another request.
        deliveryId: `api.${ticketId}.${idempotencyKey ?? randomUUID()}`,
        action: 'session.requested',
        callbackUrl: body.callbackUrl,
        ticket: {
          id: ticketId,
          number: body.number ?? ticketId,
          url: body.url,
          subject: body.subject,
          requester: body.requester,
          priority: body.priority?.toLowerCase(),
          group: body.group,
          tags: body.tags ?? [],
          fields: body.fields ?? {},
        },
      });
      if (!outcome.key)
        throw new ApiError(
          HttpStatus.UNPROCESSABLE_ENTITY,
          'session_key_refused',
          `The appliance refused to create a session key: ${outcome.failure}`,
        );
      const k = outcome.key;
      return {
        shortKey: k.shortKey,
        keyUrl: k.keyUrl,
        expiresAt: k.expires?.iso,
        queue: k.route.queueId,
        available: k.queue.available,
        externalKey: k.externalKey,
      };
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (error instanceof BeyondTrustError) throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'appliance_unavailable', error.message);
      if (error instanceof TicketSystemError && error.status === 404)
        throw new ApiError(
          HttpStatus.NOT_FOUND,
          'ticket_not_found',
          `${error.message}. Check the ticket id; the session key was created but could not be written to the ticket.`,
        );
      if (error instanceof TicketSystemError) {
        throw new ApiError(
          HttpStatus.BAD_GATEWAY,
          'ticket_write_failed',
          `${error.message}. Retry with the same Idempotency-Key to finish without a second key.`,
        );
      }
      throw error;
    }
  }
}
