import { ApiAuth } from '../http/api-token.guard';
import { CallbackTargets } from '../outbound/callback-targets';
import { Body, Controller, Get, Headers, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { BeyondTrustError } from '../beyondtrust/beyondtrust.errors';
import { ApiCall, ApiIdempotencyKey } from '../http/api-docs';
import { ApiError } from '../common/api-error';
import { TicketSystemError } from '../tickets/ticket-system.errors';
import { UpscopeError } from '../upscope/upscope.client';
import { TicketActionRequestDto } from './ticket-sessions.dto';
import { TicketSessionsService } from './ticket-sessions.service';

const ACTION_ERRORS = {
  400: 'Not a ticket id of that system, or an invalid body or Idempotency-Key',
  404: 'System not configured, or no such ticket',
  502: 'The ticket system refused the write: retry with the same Idempotency-Key',
  503: 'The appliance or Upscope is unavailable',
};

/** The vendor errors a button can meet, as the answers the sidebar and the UI Action explain to the agent. */
function answer(error: unknown): never {
  if (error instanceof ApiError) throw error;
  if (error instanceof BeyondTrustError) throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'appliance_unavailable', error.message);
  if (error instanceof UpscopeError) throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'upscope_unavailable', error.message);
  if (error instanceof TicketSystemError)
    throw new ApiError(
      HttpStatus.BAD_GATEWAY,
      'ticket_write_failed',
      `${error.message}. Retry with the same Idempotency-Key to finish without writing twice.`,
    );
  throw error;
}

/** For in-ticket apps: the ticket's sessions, and Jump and co-browse started from the ticket. */
@ApiAuth()
@Controller('api/v1/tickets')
export class TicketSessionsController {
  constructor(
    private readonly service: TicketSessionsService,
    private readonly callbacks: CallbackTargets,
  ) {}

  @ApiCall(
    'tickets',
    "For in-ticket apps: the ticket's session keys, Jump links and sessions, newest first",
    {
      status: 200,
      description: 'The sessions view',
      schema: 'TicketSessionsDto',
      example: { ticket: { system: 'zendesk', id: '1042', number: '1042' }, sessions: [], open: false },
    },
    {
      errors: {
        400: 'Not a ticket number or id of that system',
        404: 'System not configured, or no ServiceNow record with that number',
        502: 'The ticket system could not be asked',
      },
    },
  )
  @Get(':system/:ticketId/sessions')
  async sessions(@Param('system') system: string, @Param('ticketId') ticketId: string) {
    try {
      return await this.service.view(system, ticketId);
    } catch (error) {
      if (error instanceof TicketSystemError)
        throw new ApiError(HttpStatus.BAD_GATEWAY, 'ticket_system_unavailable', `Could not look the ticket up: ${error.message}`);
      answer(error);
    }
  }

  /**
   * A Jump link for the ticket's target, written to the ticket as an internal note once (an
   * `Idempotency-Key` makes a retried click return the same link without a second note).
   */
  @ApiCall(
    'tickets',
    'For in-ticket buttons: a Jump link to the ticket’s target now, noted on the ticket',
    {
      status: 201,
      description: 'The Client Scripting URL the representative opens',
      schema: 'JumpLink',
      example: { url: 'bomgar-scc://support.example.com/...', externalKey: 'zendesk-1042' },
    },
    {
      errors: { ...ACTION_ERRORS, 422: 'rs-bridge could not prepare the Jump (reason noted on the ticket)' },
      body: { schema: 'TicketActionRequestDto', example: { number: '1042', target: { hostname: 'casey-pc.corp.example' } } },
    },
  )
  @ApiIdempotencyKey()
  @Post(':system/:ticketId/jump')
  @HttpCode(HttpStatus.CREATED)
  async jump(
    @Param('system') system: string,
    @Param('ticketId') ticketId: string,
    @Body() body: TicketActionRequestDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    return this.act(body, async () => {
      const outcome = await this.service.jump(system, ticketId, body, idempotencyKey);
      if (!outcome.url)
        throw new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, 'jump_refused', `The Jump could not be prepared: ${outcome.failure}`);
      return { url: outcome.url, externalKey: outcome.externalKey };
    });
  }

  /**
   * A co-browse watch URL for the ticket's requester (or `target`) and `agent`, noted on the ticket once
   * (internal: the link controls the customer's browser).
   */
  @ApiCall(
    'tickets',
    'For in-ticket buttons: an Upscope watch URL for the ticket’s requester now, noted on the ticket',
    {
      status: 201,
      description: 'The watch URL for the agent',
      schema: 'TicketWatchUrl',
      example: { watchUrl: 'https://app.upscope.io/w/abc123', visitor: 'casey01' },
    },
    {
      errors: { ...ACTION_ERRORS, 404: 'Co-browsing not configured, or no online visitor matches (visitor_not_found)' },
      body: {
        schema: 'TicketActionRequestDto',
        example: { number: '1042', requester: { email: 'casey@example.com' }, agent: { id: '42', name: 'Ada Agent' } },
      },
    },
  )
  @ApiIdempotencyKey()
  @Post(':system/:ticketId/cobrowse')
  @HttpCode(HttpStatus.CREATED)
  async cobrowse(
    @Param('system') system: string,
    @Param('ticketId') ticketId: string,
    @Body() body: TicketActionRequestDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    return this.act(body, async () => {
      const outcome = await this.service.cobrowseFor(system, ticketId, body, idempotencyKey);
      if (outcome.note === 'no_visitor')
        throw new ApiError(
          HttpStatus.NOT_FOUND,
          'visitor_not_found',
          'No online Upscope visitor matches the requester: ask the customer to keep the site open and read out the lookup code of its co-browsing widget, then try again with it.',
        );
      if (outcome.note === 'refused') throw new ApiError(HttpStatus.BAD_GATEWAY, 'upscope_refused', 'Upscope refused to make a watch URL');
      return { watchUrl: outcome.watchUrl, visitor: outcome.visitor };
    });
  }

  /** A button's action: its callback URL allowed first, then the vendor errors it meets answered as `answer` explains them. */
  private async act<T>(body: TicketActionRequestDto, run: () => Promise<T>): Promise<T> {
    this.callbacks.checkRequest(body.callbackUrl);
    try {
      return await run();
    } catch (error) {
      return answer(error);
    }
  }
}
