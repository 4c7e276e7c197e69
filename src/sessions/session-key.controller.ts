import { BodyName } from '../common/validated-body';
import { Body, Controller, Headers, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiCall, ApiIdempotencyKey } from '../http/api-docs';
import { Type } from 'class-transformer';
import { IsEmail, IsObject, IsOptional, IsString, IsUrl, MaxLength, ValidateNested } from 'class-validator';
import { SessionKeyApiService, SessionKeyRequest } from './session-key-api.service';
import { ApiAuth } from '../http/api-token.guard';

class RequesterDto {
  @IsOptional() @IsString() @MaxLength(255) name?: string;
  @IsOptional() @IsEmail() email?: string;
}

/** What the button knows about the ticket; everything is optional, the routing rules use what is given. */
@BodyName('The session-key request body')
export class SessionKeyRequestDto implements SessionKeyRequest {
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

/** For in-ticket buttons: the ticket → session key use case, answered synchronously. */
@ApiAuth()
@Controller('api/v1/tickets')
export class SessionKeyController {
  constructor(private readonly requests: SessionKeyApiService) {}

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
    return this.requests.create(system, ticketId, body, idempotencyKey);
  }
}
