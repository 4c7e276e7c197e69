import { Transform, Type } from 'class-transformer';
import type { IncomingHttpHeaders } from 'node:http';
import { IsEmail, IsIn, IsObject, IsOptional, IsString, IsUrl, MaxLength, ValidateNested } from 'class-validator';
import { TICKET_ACTIONS, TicketAction } from '../../config/rules';
import { ACTION_MESSAGE, AssigneeDto, assigneeOf, RequestTargetDto, requesterOf, targetOf } from '../request-target';
import { TicketEvent } from '../ticket-event';
import { BodyName, IsPresent, validatedBody } from '../../common/validated-body';
import { fieldStrings } from '../field-strings';
import { verifyStandardWebhook } from '../../common/standard-webhooks';
import { unauthenticated } from '../webhook.errors';

/** Signed the Standard Webhooks way with GENERIC_WEBHOOK_SECRET (or the previous one): the delivery id is webhook-id. */
export function verifyGenericRequest(rawBody: Buffer, headers: IncomingHttpHeaders, secrets: string[], toleranceSeconds: number): string {
  const verified = verifyStandardWebhook(secrets, headers, rawBody, toleranceSeconds);
  if (!verified.ok) throw unauthenticated(verified.code, verified.message);
  return verified.id;
}

const blank = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

class GenericRequester {
  @IsOptional() @IsString() @MaxLength(255) name?: string;
  @Transform(blank) @IsOptional() @IsEmail({}, { message: 'ticket.requester.email must be an email address' }) email?: string;
}

class GenericTicket {
  @IsString({ message: 'ticket.id must be the ticket id in your system' }) @MaxLength(128) id!: string;
  @IsOptional() @IsString() @MaxLength(128) number?: string;
  @IsOptional() @IsUrl({ require_tld: false }, { message: 'ticket.url must be a URL' }) url?: string;
  @IsOptional() @IsString() @MaxLength(1024) subject?: string;
  @IsOptional() @IsString() priority?: string;
  @IsOptional() @IsString() group?: string;
  @IsOptional() @IsString({ each: true, message: 'ticket.tags must be a list of strings' }) tags?: string[];
  @IsOptional() @ValidateNested() @Type(() => GenericRequester) requester?: GenericRequester;
  @IsOptional() @IsObject({ message: 'ticket.fields must be an object of field name to value' }) fields?: Record<string, unknown>;
}

/** The documented body for any other ticket system (docs/generic.md). */
@BodyName('The generic webhook body')
export class GenericBody {
  @IsIn(TICKET_ACTIONS, { message: ACTION_MESSAGE }) action!: TicketAction;
  @IsOptional() @ValidateNested() @Type(() => RequestTargetDto) target?: RequestTargetDto;
  @IsOptional() @ValidateNested() @Type(() => AssigneeDto) assignee?: AssigneeDto;
  @IsPresent('ticket is required') @ValidateNested() @Type(() => GenericTicket) ticket!: GenericTicket;
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'callbackUrl must be an http(s) URL' })
  callbackUrl?: string;
}

export function normaliseGeneric(body: unknown, deliveryId: string): TicketEvent {
  const b = validatedBody(GenericBody, body);
  const t = b.ticket;
  const fields = fieldStrings(t.fields);
  return {
    system: 'generic',
    deliveryId,
    action: b.action,
    callbackUrl: b.callbackUrl,
    target: targetOf(b.target),
    assignee: assigneeOf(b.assignee),
    ticket: {
      id: t.id,
      number: t.number ?? t.id,
      url: t.url,
      subject: t.subject,
      requester: requesterOf(t.requester),
      priority: t.priority?.toLowerCase(),
      group: t.group,
      tags: t.tags ?? [],
      fields,
    },
  };
}
