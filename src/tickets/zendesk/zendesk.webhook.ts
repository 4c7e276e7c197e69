import { Transform, Type } from 'class-transformer';
import { IsEmail, IsIn, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Rules, TICKET_ACTIONS, TicketAction } from '../../config/rules';
import { ACTION_MESSAGE, AssigneeDto, assigneeOf, RequestTargetDto, requesterOf, targetOf } from '../request-target';
import { unauthenticated, invalidWebhook } from '../webhook.errors';
import { TicketEvent } from '../ticket-event';
import { BodyName, IsPresent, validatedBody } from '../../common/validated-body';
import { fieldStrings } from '../field-strings';

/**
 * Inbound Zendesk webhooks: signature check, validation and normalisation into a TicketEvent.
 * Two payload kinds arrive at the same URL: the body an admin writes into a trigger's webhook action
 * (the recommended template is in docs/zendesk.md) and Zendesk's event-subscription envelope.
 */

const HEADER = {
  signature: 'x-zendesk-webhook-signature',
  timestamp: 'x-zendesk-webhook-signature-timestamp',
  invocation: 'x-zendesk-webhook-invocation-id',
} as const;

/**
 * Which delivery a request is. `id` is the SHA-256 of exactly what Zendesk signs (timestamp + body): a
 * replay cannot change it without breaking the signature, and a Zendesk retry repeats it. The invocation
 * id is not signed, so it is only a second name for the delivery (see the webhook controller).
 */
export interface ZendeskDelivery {
  id: string;
  invocationId: string;
}

/** base64(HMAC-SHA256(secret, timestamp + raw body)); either configured secret may match (rotation). */
export function verifyZendeskSignature(
  rawBody: Buffer,
  headers: IncomingHttpHeaders,
  secrets: string[],
  toleranceSeconds: number,
  now = Date.now(),
): ZendeskDelivery {
  const signature = String(headers[HEADER.signature] ?? '');
  const timestamp = String(headers[HEADER.timestamp] ?? '');
  if (!signature || !timestamp) {
    throw unauthenticated('invalid_signature', 'X-Zendesk-Webhook-Signature and X-Zendesk-Webhook-Signature-Timestamp are required');
  }
  const presented = Buffer.from(signature, 'base64');
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(timestamp).update(rawBody).digest();
    valid = (expected.length === presented.length && timingSafeEqual(expected, presented)) || valid;
  }
  if (!valid) throw unauthenticated('invalid_signature', 'The Zendesk webhook signature does not match the configured signing secret');
  // Checked after the signature, so an attacker learns nothing about our clock from unsigned requests.
  const sent = Date.parse(timestamp);
  if (!Number.isFinite(sent) || Math.abs(now - sent) > toleranceSeconds * 1000) {
    throw unauthenticated(
      'stale_timestamp',
      `The webhook timestamp ${timestamp} is more than ${toleranceSeconds} s from our clock; replays are refused`,
    );
  }
  const invocationId = String(headers[HEADER.invocation] ?? '');
  if (!invocationId) throw invalidWebhook('X-Zendesk-Webhook-Invocation-Id is required');
  return { id: createHash('sha256').update(timestamp).update(rawBody).digest('hex'), invocationId };
}

const splitTags = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value);
const blankToUndefined = ({ value }: { value: unknown }) => (value === '' || value === '-' ? undefined : value);

class ZendeskRequester {
  @IsOptional() @IsString() @MaxLength(255) name?: string;
  @Transform(blankToUndefined) @IsOptional() @IsEmail({}, { message: 'requester.email must be an email address' }) email?: string;
}

class ZendeskTriggerTicket {
  @Transform(({ value }) => (typeof value === 'number' ? String(value) : value))
  @Matches(/^\d+$/, { message: 'ticket.id must be the numeric Zendesk ticket id ({{ticket.id}})' })
  id!: string;
  @IsOptional() @IsString() url?: string;
  @IsOptional() @IsString() @MaxLength(1024) subject?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() priority?: string;
  @Transform(blankToUndefined) @IsOptional() @IsString() group?: string;
  @Transform(splitTags)
  @IsOptional()
  @IsString({ each: true, message: 'ticket.tags must be a list or a space-separated string' })
  // What a trigger's {{ticket.tags}} sends is one space-separated string.
  @JSONSchema(() => ({
    oneOf: [
      { type: 'string', description: 'space-separated' },
      { type: 'array', items: { type: 'string' } },
    ],
  }))
  tags?: string[];
  @IsOptional() @ValidateNested() @Type(() => ZendeskRequester) requester?: ZendeskRequester;
  @IsOptional() @IsObject({ message: 'ticket.custom_fields must be an object of field name to value' }) custom_fields?: Record<
    string,
    unknown
  >;
}

@BodyName('The Zendesk webhook body')
export class ZendeskTriggerBody {
  @IsIn(TICKET_ACTIONS, { message: ACTION_MESSAGE })
  action!: TicketAction;
  @IsPresent('ticket is required') @ValidateNested() @Type(() => ZendeskTriggerTicket) ticket!: ZendeskTriggerTicket;
  @IsOptional() @ValidateNested() @Type(() => RequestTargetDto) target?: RequestTargetDto;
  @IsOptional() @ValidateNested() @Type(() => AssigneeDto) assignee?: AssigneeDto;
}

class ZendeskEventDetail {
  @Transform(({ value }) => (typeof value === 'number' ? String(value) : value))
  @Matches(/^\d+$/, { message: 'detail.id must be the ticket id' })
  id!: string;
  @IsOptional() @IsString() subject?: string;
  @IsOptional() @IsString() priority?: string;
  @Transform(({ value }) => (value === null || value === undefined ? undefined : String(value)))
  @IsOptional()
  @IsString()
  group_id?: string;
  @IsOptional() @IsString({ each: true }) tags?: string[];
}

@BodyName('The Zendesk webhook body')
export class ZendeskEventEnvelope {
  @Matches(/^zen:event-type:ticket\.[a-z_]+$/, { message: 'type must be a zen:event-type:ticket.* event' }) type!: string;
  @IsString() id!: string;
  @IsPresent('detail is required') @ValidateNested() @Type(() => ZendeskEventDetail) detail!: ZendeskEventDetail;
  @IsOptional() @IsObject() event?: { tags_added?: unknown; tags?: { added?: unknown } } & Record<string, unknown>;
}

/** The tags a tags_changed event added: Zendesk has sent them as `event.tags_added` and as `event.tags.added`. */
function addedTags(event: ZendeskEventEnvelope['event']): string[] {
  const added = event?.tags_added ?? (event?.tags && typeof event.tags === 'object' ? event.tags.added : undefined);
  return Array.isArray(added) ? added.filter((t): t is string => typeof t === 'string') : [];
}

export type Normalised = { event: TicketEvent } | { ignored: string };

/** Turns a verified Zendesk body into a TicketEvent (of the delivery `deliveryId`), or says why it asks for nothing. */
export function normaliseZendesk(body: unknown, deliveryId: string, baseUrl: string, rules: Rules): Normalised {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidWebhook('The webhook body must be a JSON object.');
  }
  const ticketUrl = (id: string) => `${baseUrl.replace(/\/$/, '')}/agent/tickets/${id}`;

  if (typeof (body as { type?: unknown }).type === 'string') {
    const envelope = validatedBody(ZendeskEventEnvelope, body);
    const tags =
      envelope.type === 'zen:event-type:ticket.tags_changed'
        ? addedTags(envelope.event)
        : envelope.type === 'zen:event-type:ticket.created'
          ? (envelope.detail.tags ?? [])
          : [];
    const action = tags.map((t) => rules.triggers.zendeskTags[t]).find(Boolean);
    if (!action) return { ignored: `${envelope.type} carries no tag mapped in triggers.zendeskTags` };
    const d = envelope.detail;
    return {
      event: {
        system: 'zendesk',
        deliveryId,
        action,
        ticket: {
          id: d.id,
          number: d.id,
          url: ticketUrl(d.id),
          subject: d.subject,
          priority: d.priority?.toLowerCase(),
          group: d.group_id,
          tags: d.tags ?? [],
          fields: {},
        },
      },
    };
  }

  const trigger = validatedBody(ZendeskTriggerBody, body);
  const t = trigger.ticket;
  const fields = fieldStrings(t.custom_fields);
  return {
    event: {
      system: 'zendesk',
      deliveryId,
      action: trigger.action,
      target: targetOf(trigger.target),
      assignee: assigneeOf(trigger.assignee),
      ticket: {
        id: t.id,
        number: t.id,
        url: t.url || ticketUrl(t.id),
        subject: t.subject,
        requester: requesterOf(t.requester),
        priority: t.priority?.toLowerCase(),
        group: t.group,
        tags: t.tags ?? [],
        fields,
      },
    },
  };
}
