import { Transform, Type } from 'class-transformer';
import { IsEmail, IsIn, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { unauthenticated, invalidWebhook } from '../webhook.errors';
import { TICKET_ACTIONS, TicketAction } from '../../config/rules';
import { ACTION_MESSAGE, AssigneeDto, assigneeOf, RequestTargetDto, requesterOf, targetOf } from '../request-target';
import { TicketEvent } from '../ticket-event';
import { BodyName, validatedBody } from '../../common/validated-body';
import { fieldStrings } from '../field-strings';

export const SECRET_HEADER = 'x-rsb-webhook-secret';
export const SIGNATURE_HEADER = 'x-rsb-signature';
export const TIMESTAMP_HEADER = 'x-rsb-timestamp';

const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
const digest = (s: string) => createHash('sha256').update(s).digest();
const anyMatches = (presented: Buffer, expected: (secret: string) => Buffer, secrets: string[]) => {
  let valid = false;
  for (const secret of secrets) valid = same(expected(secret), presented) || valid;
  return valid;
};

/**
 * A Business Rule authenticates one of three ways, whichever its admin can set up:
 * - X-RSB-Signature = base64(HMAC-SHA256) (what CertificateEncryption.generateMac produces), of
 *   `<X-RSB-Timestamp>.<raw body>` when it sends X-RSB-Timestamp (UNIX seconds, checked against
 *   RSB_WEBHOOK_TOLERANCE_SECONDS), otherwise of the raw body alone;
 * - the secret in X-RSB-Webhook-Secret;
 * - Basic auth with the secret as password.
 * Each configured secret (current and previous, during a rotation) is tried, in constant time. With
 * `requireTimestamp` (SERVICENOW_REQUIRE_TIMESTAMP) only the first form with a timestamp is accepted.
 */
export function verifyServiceNowRequest(
  rawBody: Buffer,
  headers: IncomingHttpHeaders,
  secrets: string[],
  toleranceSeconds: number,
  now = Date.now(),
  requireTimestamp = false,
): void {
  const signature = headers[SIGNATURE_HEADER];
  const timestamp = headers[TIMESTAMP_HEADER];
  if (requireTimestamp && (typeof signature !== 'string' || typeof timestamp !== 'string'))
    throw unauthenticated(
      'timestamp_required',
      'Sign the request with X-RSB-Signature over "<X-RSB-Timestamp>.<body>" (SERVICENOW_REQUIRE_TIMESTAMP is on; see docs/servicenow.md)',
    );
  if (typeof signature === 'string') {
    const presented = Buffer.from(signature, 'base64');
    if (typeof timestamp === 'string') {
      const valid =
        /^\d{1,12}$/.test(timestamp) &&
        anyMatches(presented, (secret) => createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest(), secrets);
      if (!valid)
        throw unauthenticated(
          'invalid_signature',
          'X-RSB-Signature does not match "<X-RSB-Timestamp>.<body>" signed with SERVICENOW_WEBHOOK_SECRET',
        );
      // After the signature, so unsigned requests learn nothing of our clock.
      if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds)
        throw unauthenticated('stale_timestamp', `X-RSB-Timestamp is more than ${toleranceSeconds} s from our clock; replays are refused`);
      return;
    }
    if (anyMatches(presented, (secret) => createHmac('sha256', secret).update(rawBody).digest(), secrets)) return;
    throw unauthenticated('invalid_signature', 'X-RSB-Signature does not match the body signed with SERVICENOW_WEBHOOK_SECRET');
  }
  const header = headers[SECRET_HEADER];
  if (typeof header === 'string') {
    if (anyMatches(digest(header), digest, secrets)) return;
    throw unauthenticated('invalid_secret', 'X-RSB-Webhook-Secret is not SERVICENOW_WEBHOOK_SECRET');
  }
  const basic = /^Basic\s+(\S+)$/i.exec(headers.authorization ?? '');
  if (basic) {
    const password = Buffer.from(basic[1], 'base64').toString('utf8').split(/:(.*)/s)[1] ?? '';
    if (anyMatches(digest(password), digest, secrets)) return;
    throw unauthenticated('invalid_secret', 'The Basic auth password is not SERVICENOW_WEBHOOK_SECRET');
  }
  throw unauthenticated(
    'unauthenticated',
    'Authenticate with X-RSB-Signature, X-RSB-Webhook-Secret or Basic auth (see docs/servicenow.md)',
  );
}

const blank = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

class ServiceNowCaller {
  @IsOptional() @IsString() @MaxLength(255) name?: string;
  @Transform(blank) @IsOptional() @IsEmail({}, { message: 'caller.email must be an email address' }) email?: string;
}

@BodyName('The ServiceNow webhook body')
export class ServiceNowBody {
  @IsIn(TICKET_ACTIONS, { message: ACTION_MESSAGE }) action!: TicketAction;
  @IsOptional() @ValidateNested() @Type(() => RequestTargetDto) target?: RequestTargetDto;
  @IsOptional() @ValidateNested() @Type(() => AssigneeDto) assigned_to?: AssigneeDto;
  @IsString({ message: 'delivery_id must be a unique id per request (gs.generateGUID())' }) @MaxLength(128) delivery_id!: string;
  @Matches(/^[0-9a-f]{32}$/, { message: 'sys_id must be the record sys_id (32 hex characters)' }) sys_id!: string;
  @IsString({ message: 'number must be the record number (INC0012345)' }) @MaxLength(40) number!: string;
  @IsOptional() @IsString() table?: string;
  @IsOptional() @IsString() @MaxLength(1024) short_description?: string;
  @Transform(blank) @IsOptional() @IsString() priority?: string;
  @Transform(blank) @IsOptional() @IsString() assignment_group?: string;
  @IsOptional() @IsString({ each: true }) tags?: string[];
  @IsOptional() @ValidateNested() @Type(() => ServiceNowCaller) caller?: ServiceNowCaller;
  @IsOptional() @IsObject({ message: 'fields must be an object of field name to value' }) fields?: Record<string, unknown>;
}

/** "1 - Critical" → "critical": the label, as the routing rules and priority map name it. */
const priorityLabel = (value?: string) =>
  value
    ?.replace(/^\s*\d+\s*-\s*/, '')
    .trim()
    .toLowerCase() || undefined;

export function normaliseServiceNow(body: unknown, instanceUrl: string, table: string): TicketEvent {
  const b = validatedBody(ServiceNowBody, body);
  if (b.table && b.table !== table) throw invalidWebhook(`table ${b.table} is not the configured SERVICENOW_TABLE (${table})`);
  const fields = fieldStrings(b.fields);
  return {
    system: 'servicenow',
    deliveryId: b.delivery_id,
    action: b.action,
    target: targetOf(b.target),
    assignee: assigneeOf(b.assigned_to),
    ticket: {
      id: b.sys_id,
      number: b.number,
      url: `${instanceUrl.replace(/\/$/, '')}/nav_to.do?uri=${table}.do?sys_id=${b.sys_id}`,
      subject: b.short_description,
      requester: requesterOf(b.caller),
      priority: priorityLabel(b.priority),
      group: b.assignment_group,
      tags: b.tags ?? [],
      fields,
    },
  };
}
