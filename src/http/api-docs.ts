import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { SchemaObject, SecuritySchemeObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const obj = (properties: Record<string, object>, required: string[] = Object.keys(properties)): SchemaObject =>
  ({ type: 'object', required, properties }) as SchemaObject;

const SESSION_LINK = obj(
  {
    system: str,
    ticketId: str,
    ticketNumber: str,
    ticketUrl: str,
    callbackUrl: str,
    externalKey: str,
    shortKey: str,
    createdAt: str,
    keyUrl: str,
    expiresAt: str,
  },
  ['system', 'ticketId', 'ticketNumber', 'externalKey', 'shortKey', 'createdAt'],
);

/**
 * The answers of the API, by name, in components.schemas (beside the request DTOs' schemas). Written by
 * hand as JSON Schema so client generators get real types; the e2e tests check live answers against them.
 */
export const RESPONSE_SCHEMAS: Record<string, SchemaObject> = {
  Error: obj({
    error: obj(
      {
        code: { type: 'string', description: 'Stable, machine-readable: validation_failed, unauthorized, not_found, rate_limited, …' },
        message: { type: 'string', description: 'For people: what is wrong and what to do' },
        details: { description: 'More about the error, e.g. every invalid field' },
      },
      ['code', 'message'],
    ),
  }),
  WebhookAccepted: obj({ jobId: { type: 'string', description: 'The queued job; the same delivery sent again gets the same id' } }),
  WebhookIgnored: obj({ ignored: { type: 'string', description: 'Why nothing was queued (an action rs-bridge does not handle)' } }),
  OutboundEventAnswer: obj({ ok: { type: 'boolean', enum: [true] }, jobId: str, ignored: str }, ['ok']),
  SessionKey: obj({ shortKey: str, keyUrl: str, expiresAt: str, queue: str, available: bool, externalKey: str }, [
    'shortKey',
    'keyUrl',
    'queue',
    'available',
    'externalKey',
  ]),
  JumpLink: obj({ url: { type: 'string', description: 'The Client Scripting URL the representative opens' }, externalKey: str }, ['url']),
  TicketWatchUrl: obj({ watchUrl: str, visitor: { type: 'string', description: 'The visitor found' } }, ['watchUrl']),
  WatchUrl: obj({
    watchUrl: str,
    visitor: obj({ shortId: str, name: str, email: str, online: bool }, ['shortId']),
  }),
  Escalation: obj(
    {
      id: str,
      lsid: str,
      state: { type: 'string', enum: ['queued', 'active', 'ended'] },
      representatives: { type: 'array', items: str },
      owner: str,
      externalKey: str,
      queue: str,
      downloadUrl: str,
      createdAt: str,
      ticket: obj({ system: str, id: str, number: str }),
      estimatedPickupAt: { type: 'string', description: 'While queued, with BT_REALTIME_ENABLED' },
    },
    ['id', 'lsid', 'state', 'representatives', 'externalKey', 'createdAt'],
  ),
  MessageSent: obj({ sent: { type: 'boolean', enum: [true] } }),
  ResyncQueued: obj({ jobId: str }),
  Status: obj({
    service: str,
    version: str,
    role: { type: 'string', enum: ['api', 'worker', 'all'] },
    redisPrefix: str,
    uptimeSeconds: int,
  }),
  QueueCounts: obj({
    queues: {
      type: 'object',
      additionalProperties: obj({ waiting: int, active: int, delayed: int, completed: int, failed: int }),
    },
  }),
  FailedJobs: obj({
    queue: str,
    jobs: {
      type: 'array',
      items: obj({ id: str, name: str, failedReason: str, attemptsMade: int, failedAt: str, data: { description: "The job's data" } }, [
        'id',
        'name',
        'attemptsMade',
      ]),
    },
  }),
  RetriedAll: obj({ queue: str, retried: { type: 'integer', description: 'Failed jobs put back in the queue' } }),
  RetriedOne: obj({ queue: str, retried: { type: 'string', description: 'The job id' } }),
  SessionLink: SESSION_LINK,
  TicketLinks: obj({ system: str, ticketId: str, links: { type: 'array', items: ref('SessionLink') } }),
  SessionRecord: obj(
    {
      lsid: str,
      state: obj(
        {
          state: { type: 'string', enum: ['active', 'ended'] },
          externalKey: str,
          startedAt: str,
          endedAt: str,
          owner: str,
          members: str,
          ticket: str,
        },
        [],
      ),
      link: ref('SessionLink'),
      artifacts: { type: 'object', additionalProperties: str, description: 'What is on the ticket (artifact → when)' },
    },
    ['lsid', 'state', 'artifacts'],
  ),
  Liveness: obj({ status: { type: 'string', enum: ['ok'] } }),
  Readiness: obj(
    {
      status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] },
      info: { type: 'object', additionalProperties: true },
      error: { type: 'object', additionalProperties: true },
      details: { type: 'object', additionalProperties: true },
      checks: { type: 'array', items: obj({ area: str, name: str, ok: bool, detail: str, fix: str }, ['area', 'name', 'ok', 'detail']) },
    },
    ['status'],
  ),
};

/** How each caller authenticates: components.securitySchemes. */
export const SECURITY_SCHEMES: Record<string, SecuritySchemeObject> = {
  bearer: { type: 'http', scheme: 'bearer', description: 'An opaque token from RSB_API_TOKENS (16+ characters; not a JWT).' },
  zendeskSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Zendesk-Webhook-Signature',
    description:
      'base64(HMAC-SHA256(ZENDESK_WEBHOOK_SECRET, X-Zendesk-Webhook-Signature-Timestamp + raw body)), as Zendesk signs its webhooks; the timestamp must be within RSB_WEBHOOK_TOLERANCE_SECONDS.',
  },
  servicenowSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-RSB-Signature',
    description:
      'base64(HMAC-SHA256(SERVICENOW_WEBHOOK_SECRET, "<X-RSB-Timestamp>.<raw body>")), or of the raw body alone without X-RSB-Timestamp (see docs/servicenow.md).',
  },
  servicenowSecret: { type: 'apiKey', in: 'header', name: 'X-RSB-Webhook-Secret', description: 'SERVICENOW_WEBHOOK_SECRET itself.' },
  servicenowBasic: { type: 'http', scheme: 'basic', description: 'Any user, SERVICENOW_WEBHOOK_SECRET as the password.' },
  jiraSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature',
    description: 'sha256=<hex HMAC-SHA256(JIRA_WEBHOOK_SECRET, raw body)>, as Jira signs its admin webhooks (WebSub).',
  },
  jiraSecret: {
    type: 'apiKey',
    in: 'header',
    name: 'X-RSB-Webhook-Secret',
    description: 'JIRA_WEBHOOK_SECRET itself, set as a header of a Jira Automation "Send web request" action.',
  },
  standardWebhooks: {
    type: 'apiKey',
    in: 'header',
    name: 'webhook-signature',
    description:
      'Standard Webhooks: "v1,<base64 HMAC-SHA256 of webhook-id.webhook-timestamp.body>" keyed with GENERIC_WEBHOOK_SECRET (whsec_ + base64); see docs/generic.md.',
  },
  beyondtrustToken: {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: 'BT_EVENTS_TOKEN in the URL of the outbound events HTTP recipient (the appliance posts only its own fields; use TLS).',
  },
  beyondtrustTokenHeader: {
    type: 'apiKey',
    in: 'header',
    name: 'X-RSB-Events-Token',
    description: 'BT_EVENTS_TOKEN, for a proxy in front of rs-bridge that adds it.',
  },
};

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before sending again', schema: { type: 'integer' } } };
const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request: every bad field is listed in details',
  401: 'Credentials missing or wrong',
  404: 'Not found, or the feature is not configured',
  413: 'Body over RSB_WEBHOOK_MAX_BYTES',
  429: 'Over the rate limit: see Retry-After',
  503: 'Redis or a vendor unavailable: nothing was done, send again',
};

/** The error answers, each with the error envelope; `errors` maps status → description (or true for the usual one). */
export function ApiErrors(errors: Record<number, string | true>) {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({
        status: Number(status),
        description: description === true ? ERROR_TEXT[Number(status)] : description,
        schema: ref('Error'),
        ...(status === '429' || status === '503' ? { headers: retryAfter } : {}),
      }),
    ),
  );
}

export interface Success {
  status: number;
  description: string;
  /** A name in RESPONSE_SCHEMAS or a request DTO's schema. */
  schema: string;
  example?: unknown;
}

const success = (ok: Success) =>
  ApiResponse({
    status: ok.status,
    description: ok.description,
    content: { 'application/json': { schema: ref(ok.schema), ...(ok.example === undefined ? {} : { example: ok.example }) } },
  });

const body = (schemas: string[], example: unknown) =>
  ApiBody({ schema: schemas.length === 1 ? ref(schemas[0]) : { oneOf: schemas.map(ref) }, examples: { example: { value: example } } });

/** An inbound webhook: how its sender authenticates (alternatives), its body and its answers. */
export function ApiWebhook(
  summary: string,
  schemas: string[],
  example: unknown,
  auth: { security: string[]; headers?: { name: string; description: string; required?: boolean }[]; description: string },
  ok: Success[] = [{ status: 202, description: 'Verified and queued durably', schema: 'WebhookAccepted', example: { jobId: 'a3f0c2e1' } }],
) {
  return applyDecorators(
    ApiTags('webhooks'),
    ApiOperation({ summary, description: auth.description }),
    ...auth.security.map((name) => ApiSecurity(name)),
    ...(auth.headers ?? []).map((h) => ApiHeader({ name: h.name, description: h.description, required: h.required ?? true, schema: str })),
    body(schemas, example),
    ...ok.map(success),
    ApiErrors({
      400: true,
      401: 'Signature, secret or token missing or wrong',
      404: 'This system is not configured',
      413: true,
      429: true,
      503: true,
    }),
  );
}

/** An Idempotency-Key header: optional; a retried call with the same key gets the first answer again. */
export const ApiIdempotencyKey = () =>
  ApiHeader({
    // Spelt as the handlers' @Headers() name it, so this replaces the required parameter Nest infers from it.
    name: 'idempotency-key',
    required: false,
    description: 'Optional. The same key for the same ticket returns the first answer again instead of doing it twice.',
    schema: { type: 'string', pattern: '^[\\w.:-]{1,128}$' },
  });

/** A bearer-token endpoint of /api/v1 (its controller's @ApiAuth() documents the bearer scheme). */
export function ApiCall(
  tag: string,
  summary: string,
  ok: Success,
  options: { body?: { schema: string; example: unknown }; errors?: Record<number, string | true> } = {},
) {
  return applyDecorators(
    ApiTags(tag),
    ApiOperation({ summary }),
    success(ok),
    ApiErrors({
      ...options.errors,
      401: 'No or wrong bearer token (RSB_API_TOKENS)',
      429: 'Over RSB_API_RATE_LIMIT_PER_MINUTE for this token: see Retry-After',
    }),
    ...(options.body ? [body([options.body.schema], options.body.example)] : []),
  );
}
