import { Type } from 'class-transformer';
import { IsIn, IsObject, IsOptional, IsString, Matches, ValidateNested } from 'class-validator';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Rules } from '../../config/rules';
import { unauthenticated } from '../webhook.errors';
import { TicketEvent } from '../ticket-event';
import { BodyName, IsPresent, validatedBody } from '../../common/validated-body';
import { fieldStrings } from '../field-strings';

/**
 * Inbound Jira: an admin webhook (System > WebHooks, signed the WebSub way: `X-Hub-Signature:
 * sha256=<hex HMAC-SHA256 of the raw body>`), or an Automation rule's "Send web request" with the
 * secret in `X-RSB-Webhook-Secret`. Both carry the issue in Jira's REST shape.
 */

export const SIGNATURE_HEADER = 'x-hub-signature';
export const IDENTIFIER_HEADER = 'x-atlassian-webhook-identifier';
export const SECRET_HEADER = 'x-rsb-webhook-secret';

/**
 * How old a signed body may be. Jira retries a delivery for minutes, not days; a captured body replayed
 * within this window is the delivery already recorded (deliveries are kept 30 days), so it writes nothing.
 */
export const MAX_BODY_AGE_MS = 7 * 24 * 3600 * 1000;

export interface JiraDelivery {
  /** SHA-256 of the raw body: what the signature (or the secret) vouches for. */
  id: string;
  /** The admin webhook's X-Atlassian-Webhook-Identifier (unsigned, unchanged across Jira's retries). */
  identifier?: string;
  signed: boolean;
}

const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
const digest = (s: string | Buffer) => createHash('sha256').update(s).digest();

export function verifyJiraRequest(rawBody: Buffer, headers: IncomingHttpHeaders, secrets: string[]): JiraDelivery {
  const id = digest(rawBody).toString('hex');
  const signature = headers[SIGNATURE_HEADER];
  if (typeof signature === 'string') {
    const hex = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim())?.[1];
    let valid = false;
    for (const secret of secrets)
      valid = (hex !== undefined && same(createHmac('sha256', secret).update(rawBody).digest(), Buffer.from(hex, 'hex'))) || valid;
    if (!valid)
      throw unauthenticated('invalid_signature', 'X-Hub-Signature is not sha256=<hex HMAC-SHA256 of the body> with JIRA_WEBHOOK_SECRET');
    const identifier = headers[IDENTIFIER_HEADER];
    return { id, identifier: typeof identifier === 'string' && identifier ? identifier : undefined, signed: true };
  }
  const header = headers[SECRET_HEADER];
  if (typeof header === 'string') {
    let valid = false;
    for (const secret of secrets) valid = same(digest(header), digest(secret)) || valid;
    if (valid) return { id, signed: false };
    throw unauthenticated('invalid_secret', 'X-RSB-Webhook-Secret is not JIRA_WEBHOOK_SECRET');
  }
  throw unauthenticated(
    'unauthenticated',
    'Sign with the webhook secret (X-Hub-Signature) or send X-RSB-Webhook-Secret (see docs/jira.md)',
  );
}

class JiraIssue {
  @Matches(/^[A-Z][A-Z0-9_]*-\d+$/, { message: 'issue.key must be an issue key such as SD-123' }) key!: string;
  @IsOptional() @IsObject({ message: 'issue.fields must be an object' }) fields?: Record<string, unknown>;
}

@BodyName('The Jira webhook body')
export class JiraWebhookBody {
  @IsOptional() @IsString() webhookEvent?: string;
  @IsOptional() timestamp?: unknown;
  @IsPresent('issue is required') @ValidateNested() @Type(() => JiraIssue) issue!: JiraIssue;
  @IsOptional() @IsObject({ message: 'changelog must be an object' }) changelog?: { items?: unknown };
  @IsOptional() @IsIn(['jira'], { message: 'source must be jira' }) source?: string;
}

export type NormalisedJira = { event: TicketEvent } | { ignored: string };

const words = (s: unknown) => (typeof s === 'string' ? s.split(/\s+/).filter(Boolean) : []);

/** The labels a change added: Jira's changelog holds the labels before and after, space-separated. */
function addedLabels(changelog: { items?: unknown } | undefined): string[] {
  const items = Array.isArray(changelog?.items) ? (changelog.items as Record<string, unknown>[]) : [];
  return items
    .filter((i) => i && i.field === 'labels')
    .flatMap((i) => {
      const before = new Set(words(i.fromString));
      return words(i.toString).filter((l) => !before.has(l));
    });
}

/** A select, user or priority value shows as its name, as an agent reads it. */
function display(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(display).join(', ');
  if (value && typeof value === 'object') {
    const v = value as { value?: unknown; name?: unknown; displayName?: unknown };
    return v.value ?? v.displayName ?? v.name ?? value;
  }
  return value;
}

/** Turns a verified body into a TicketEvent, or says why it asks for nothing. */
export function normaliseJira(
  body: unknown,
  deliveryId: string,
  baseUrl: string,
  rules: Rules,
  signed: boolean,
  now = Date.now(),
): NormalisedJira {
  const b = validatedBody(JiraWebhookBody, body);
  // Read from the body as sent: class-transformer drops a property named toString (the changelog's "after").
  const changelog = (body as { changelog?: { items?: unknown } }).changelog;
  if (signed && b.timestamp !== undefined) {
    const sent = Number(b.timestamp);
    if (!Number.isFinite(sent) || now - sent > MAX_BODY_AGE_MS)
      throw unauthenticated('stale_timestamp', 'The webhook body is older than 7 days; replays are refused');
  }
  const fields = b.issue.fields ?? {};
  const labels = Array.isArray(fields.labels) ? fields.labels.filter((l): l is string => typeof l === 'string') : [];
  let asked: string[];
  if (b.webhookEvent === 'jira:issue_created') asked = labels;
  else if (b.webhookEvent === 'jira:issue_updated') asked = addedLabels(changelog);
  else if (b.webhookEvent) return { ignored: `${b.webhookEvent} is not an issue being created or updated` };
  // An automation rule sends when its own conditions hold: the issue's labels say what it asks for.
  else asked = labels;
  const action = asked.map((l) => rules.triggers.jiraLabels[l]).find(Boolean);
  if (!action) return { ignored: 'no label mapped in triggers.jiraLabels was added' };

  const reporter = (fields.reporter ?? undefined) as { displayName?: string; emailAddress?: string } | undefined;
  const priority = (fields.priority ?? undefined) as { name?: string } | undefined;
  const custom = Object.fromEntries(
    Object.entries(fields)
      .filter(([k]) => k.startsWith('customfield_'))
      .map(([k, v]) => [k, display(v)]),
  );
  const key = b.issue.key;
  return {
    event: {
      system: 'jira',
      deliveryId,
      action,
      ticket: {
        id: key,
        number: key,
        url: `${baseUrl.replace(/\/$/, '')}/browse/${key}`,
        subject: typeof fields.summary === 'string' ? fields.summary : undefined,
        requester: reporter ? { name: reporter.displayName, email: reporter.emailAddress } : undefined,
        priority: priority?.name?.toLowerCase(),
        group: (fields.project as { key?: string } | undefined)?.key,
        tags: labels,
        fields: fieldStrings(custom),
      },
    },
  };
}
