import { BodyName } from '../common/validated-body';
import { Body, Controller, Headers, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiCall, ApiIdempotencyKey } from '../http/api-docs';
import { Type } from 'class-transformer';
import { IsEmail, IsObject, IsOptional, IsString, IsUrl, MaxLength, ValidateNested } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { BeyondTrustError } from '../beyondtrust/beyondtrust.errors';
import { TICKET_SYSTEMS, TicketSystemName } from '../config/rules';
import { ApiError } from '../common/api-error';
import { TicketSystemError } from '../tickets/ticket-system.errors';
import { TicketsService } from '../tickets/tickets.service';
import { CallbackTargets } from '../outbound/callback-targets';
import { SessionKeyService } from './session-key.service';
import { ApiAuth } from '../http/api-token.guard';

class RequesterDto {
  @IsOptional() @IsString() @MaxLength(255) name?: string;
  @IsOptional() @IsEmail() email?: string;
}

/** What the button knows about the ticket; everything is optional, the routing rules use what is given. */
@BodyName('The session-key request body')
export class SessionKeyRequestDto {
  @IsOptional() @IsString() @MaxLength(128) number?: string;
  @IsOptional() @IsString() url?: string;
  @IsOptional() @IsString() @MaxLength(1024) subject?: string;
  @IsOptional() @IsString() priority?: string;
  @IsOptional() @IsString() group?: string;
  @IsOptional() @IsString({ each: true }) tags?: string[];
  @IsOptional() @ValidateNested() @Type(() => RequesterDto) requester?: RequesterDto;
  @IsOptional() @IsObject() fields?: Record<string, string>;
  /** Generic systems: where the key, notes and transcript are POSTed (RSB_CALLBACK_ALLOWED_HOSTS). */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'callbackUrl must be an http(s) URL' })
  callbackUrl?: string;
}

const TICKET_ID: Record<TicketSystemName, RegExp> = {
  zendesk: /^\d+$/,
  servicenow: /^[0-9a-f]{32}$/,
  jira: /^[A-Z][A-Z0-9_]*-\d+$/,
  generic: /^\S{1,128}$/,
};

/** For in-ticket buttons: the ticket → session key use case, answered synchronously. */
@ApiAuth()
@Controller('api/v1/tickets')
export class SessionKeyController {
  constructor(
    private readonly sessions: SessionKeyService,
    private readonly tickets: TicketsService,
    private readonly callbacks: CallbackTargets,
  ) {}

  /**
   * Creates a key for the ticket, writes it back like the webhook flow, and returns it. An
   * `Idempotency-Key` header makes a retried call return the same key instead of creating another.
   */
  @ApiCall(
    'tickets',
    'For in-ticket buttons: create a session key for the ticket now and write it back',
    {
      status: 201,
      description: 'The key, written to the ticket',
      schema: 'SessionKey',
      example: {
        shortKey: '4711815',
        keyUrl: 'https://support.example.com/?ak=4711815',
        expiresAt: '2026-11-23T11:00:00Z',
        queue: 'general',
        available: true,
        externalKey: 'zendesk-1042',
      },
    },
    {
      errors: {
        400: 'Not a ticket id of that system, or an invalid body or Idempotency-Key',
        404: 'System not configured, or no such ticket',
        422: 'The appliance refused to create a key',
        502: 'The ticket system refused the write: retry with the same Idempotency-Key',
        503: 'The appliance is unavailable',
      },
      body: {
        schema: 'SessionKeyRequestDto',
        example: { number: '1042', subject: 'Printer on fire', requester: { email: 'casey@example.com' } },
      },
    },
  )
  @ApiIdempotencyKey()
  @Post(':system/:ticketId/session-key')
  @HttpCode(HttpStatus.CREATED)
  async create(
    @Param('system') system: string,
    @Param('ticketId') ticketId: string,
    @Body() body: SessionKeyRequestDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    if (!(TICKET_SYSTEMS as readonly string[]).includes(system) || !this.tickets.enabled(system as TicketSystemName)) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'not_found',
        `Ticket system "${system}" is not configured (configured: ${TICKET_SYSTEMS.filter((s) => this.tickets.enabled(s)).join(', ') || 'none'})`,
      );
    }
    const name = system as TicketSystemName;
    if (!TICKET_ID[name].test(ticketId))
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
