import { Transform } from 'class-transformer';
import ipaddr from 'ipaddr.js';
import { IsBoolean, IsIn, IsOptional, IsString, IsUrl, Matches, MinLength, ValidateBy, ValidateIf } from 'class-validator';
import { STANDARD_WEBHOOK_SECRET_HINT, standardWebhookSecretProblem } from '../common/standard-webhooks';
import { EnvVar } from './env-var.decorator';
import { IntVar, ToBool, ToList } from './transforms';

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every environment variable rs-bridge reads. The property name is the variable's name (a contract:
 * never rename one). Each validator's message says what is expected; the loader adds what was found.
 */
/** A `whsec_` secret of the Standard Webhooks specification; the message says how to make one. */
const IsStandardWebhookSecret = (): PropertyDecorator =>
  ValidateBy({
    name: 'isStandardWebhookSecret',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && standardWebhookSecretProblem(value) === undefined,
      defaultMessage: (args) =>
        typeof args?.value === 'string'
          ? standardWebhookSecretProblem(args.value)!
          : `a Standard Webhooks secret (${STANDARD_WEBHOOK_SECRET_HINT})`,
    },
  });

/** `host:port` or `[IPv6]:port` of a Redis node or sentinel. */
const HOST_PORT = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):\d{1,5}$/;

/** An IPv4 or IPv6 address with an optional prefix length. */
const CIDR = /^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[0-9a-fA-F:]+(\/\d{1,3})?)$/;
/** Proxies trusted for X-Forwarded-For: false, a hop count, or addresses/CIDRs (and proxy-addr's loopback, linklocal, uniquelocal). */
export type TrustProxy = false | number | string[];
const isAddress = (text: string): boolean => ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
const isTrustedProxy = (item: string): boolean => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(item) || isAddress(item)) return true;
  const [address, prefix] = item.split('/');
  if (!isAddress(address) || !/^\d{1,3}$/.test(prefix ?? '')) return false;
  return Number(prefix) <= (ipaddr.IPv4.isValidFourPartDecimal(address) ? 32 : 128);
};
const toTrustProxy = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (v === 'false') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v.split(',').map((item) => item.trim());
};
const isTrustProxy = (value: unknown): boolean =>
  value === false ||
  (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 10) ||
  (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && isTrustedProxy(item)));

/** A host name, `*.domain` for any name under the domain, or an IP address. */
// A wildcard names at least a registrable domain (`*.example.com`): `*.com` would let any callback through.
export const ALLOWED_HOST = /^\*\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$|^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$|^[0-9a-fA-F:.]+$/;

export class Environment {
  @EnvVar({ description: 'HTTP port the API listens on.' })
  @IntVar(1, 65535)
  PORT = 3000;

  @EnvVar({ description: 'Address the HTTP server binds to (0.0.0.0 in containers, 127.0.0.1 to stay local).' })
  @IsString({ message: 'an IP address or hostname' })
  HOST = '0.0.0.0';

  @EnvVar({
    description: 'What this process runs: api (HTTP only), worker (queue processors and schedulers only) or all.',
  })
  @IsIn(ROLES, { message: `one of ${ROLES.join(', ')}` })
  RSB_ROLE: Role = 'all';

  @EnvVar({
    description:
      'A single Redis: connection URL (redis:// or rediss://, may carry a password); leave unset with REDIS_SENTINELS or REDIS_CLUSTER_NODES. Use AOF persistence and maxmemory-policy noeviction.',
    sensitive: true,
  })
  @Matches(/^rediss?:\/\/\S+$/, { message: 'a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @EnvVar({
    description:
      'Comma-separated host:port of Redis Sentinels: selects Sentinel mode (instead of REDIS_URL or REDIS_CLUSTER_NODES); the bridge follows the master through failovers.',
    example: '',
  })
  @IsOptional()
  @ToList()
  @Matches(HOST_PORT, { each: true, message: 'comma-separated host:port' })
  REDIS_SENTINELS?: string[];

  @EnvVar({ description: 'Name of the master the sentinels watch (REDIS_SENTINELS only).' })
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: '1 to 64 letters, digits or _ . -' })
  REDIS_SENTINEL_MASTER = 'mymaster';

  @EnvVar({
    description: 'Password of the sentinels themselves, when they require one (REDIS_SENTINELS only).',
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @IsString()
  REDIS_SENTINEL_PASSWORD?: string;

  @EnvVar({
    description:
      'Comma-separated host:port of some Redis Cluster nodes: selects Cluster mode (instead of REDIS_URL or REDIS_SENTINELS); the key prefix gets a hash tag ({rsb}) by itself.',
    example: '',
  })
  @IsOptional()
  @ToList()
  @Matches(HOST_PORT, { each: true, message: 'comma-separated host:port' })
  REDIS_CLUSTER_NODES?: string[];

  @EnvVar({ description: 'Redis ACL user name, in every mode (for REDIS_URL, instead of the one in the URL).', example: '' })
  @IsOptional()
  @Matches(/^\S{1,128}$/, { message: 'a user name without spaces' })
  REDIS_USERNAME?: string;

  @EnvVar({ description: 'Redis password, in every mode (for REDIS_URL, instead of the one in the URL).', sensitive: true, example: '' })
  @IsOptional()
  @IsString()
  REDIS_PASSWORD?: string;

  @EnvVar({ description: 'Connect to Redis (and the sentinels) over TLS, in every mode; rediss:// in REDIS_URL does the same.' })
  @ToBool()
  @IsBoolean({ message: 'true or false' })
  REDIS_TLS = false;

  @EnvVar({
    description:
      'Prefix of every Redis key and BullMQ queue of this deployment; in Cluster mode a prefix without a {hash tag} gets one ({rsb}).',
  })
  @Matches(/^[A-Za-z0-9_.:{}-]{1,64}$/, { message: '1 to 64 letters, digits or _ . : { } -' })
  RSB_REDIS_PREFIX = 'rsb';

  @EnvVar({ description: `Log level: ${LOG_LEVELS.join(', ')}.` })
  @IsIn(LOG_LEVELS, { message: `one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  @EnvVar({
    description: 'Comma-separated bearer tokens accepted on /api/v1/* (at least 16 characters each); empty rejects every API call.',
    sensitive: true,
    example: '',
  })
  @ToList()
  @IsString({ each: true, message: 'tokens of at least 16 characters without spaces' })
  @MinLength(16, { each: true, message: 'tokens of at least 16 characters without spaces' })
  @Matches(/^\S+$/, { each: true, message: 'tokens of at least 16 characters without spaces' })
  RSB_API_TOKENS: string[] = [];

  @EnvVar({ description: 'User name of the queue dashboard at /admin/queues (basic auth); unset disables the dashboard.', example: '' })
  @IsOptional()
  @Matches(/^[^:\s]{1,64}$/, { message: 'a user name without colons or spaces' })
  RSB_ADMIN_USER?: string;

  @EnvVar({
    description: 'Password of the queue dashboard (at least 12 characters); unset disables the dashboard.',
    sensitive: true,
    example: '',
  })
  @ValidateIf((env: Environment) => Boolean(env.RSB_ADMIN_USER))
  @IsString({ message: 'a password of at least 12 characters (required with RSB_ADMIN_USER)' })
  @MinLength(12, { message: 'a password of at least 12 characters (required with RSB_ADMIN_USER)' })
  RSB_ADMIN_PASSWORD?: string;

  @EnvVar({ description: 'Path to the YAML rules file (routing, field mapping, templates). Optional.', example: '' })
  @IsOptional()
  @IsString({ message: 'a file path' })
  RSB_RULES_FILE?: string;

  @EnvVar({
    description: 'On SIGTERM, how long running jobs may take to finish before the worker stops anyway (they are then retried).',
  })
  @IntVar(0, 3600000, 'milliseconds')
  RSB_SHUTDOWN_TIMEOUT_MS = 30_000;

  @EnvVar({
    description:
      'Which senders may say who the client is (X-Forwarded-For): false (none: the client is the TCP peer), the number of proxy hops in front of the pods, or comma-separated proxy addresses/CIDRs. Every client address (BT_EVENTS_ALLOWED_IPS, rate limits, logs) follows it.',
  })
  @Transform(toTrustProxy)
  @ValidateBy(
    { name: 'trustProxy', validator: { validate: isTrustProxy } },
    { message: 'false, a hop count from 1 to 10, or comma-separated addresses/CIDRs' },
  )
  RSB_TRUST_PROXY: TrustProxy = false;

  @EnvVar({
    description:
      'Requests a minute allowed per bearer token on /api/v1 (a caller without a valid token: per address), counted across all pods in Redis; over it, 429 with Retry-After. 0 turns the limit off.',
  })
  @IntVar(0, 1000000, 'requests a minute')
  RSB_API_RATE_LIMIT_PER_MINUTE = 1200;

  @EnvVar({
    description:
      'On SIGTERM, how long the API keeps serving (with /readyz answering 503) before its listener closes, so load balancers stop sending first.',
  })
  @IntVar(0, 600, 'seconds')
  RSB_DRAIN_SECONDS = 5;

  @EnvVar({
    description:
      'A worker whose event loop is blocked this long is stopped (exit code 70) by its watchdog thread, for a restart; 0 disables.',
  })
  @IntVar(0, 3600, 'seconds')
  RSB_WATCHDOG_BLOCKED_SECONDS = 30;

  @EnvVar({
    description:
      'A worker that takes no job this long while jobs wait, it has a free slot and Redis answers, exits (code 70) for a restart; 0 disables.',
  })
  @IntVar(0, 86400, 'seconds')
  RSB_WATCHDOG_STALL_SECONDS = 300;

  // --- BeyondTrust Remote Support appliance ------------------------------------------------------

  @EnvVar({
    description: 'URL of the BeyondTrust site (https://support.example.com). Unset disables every BeyondTrust feature.',
    example: '',
  })
  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['https', 'http'] },
    { message: 'an http(s) URL such as https://support.example.com' },
  )
  BT_SITE_URL?: string;

  @EnvVar({ description: 'OAuth client ID of the BeyondTrust API account (required with BT_SITE_URL).', example: '' })
  @ValidateIf((env: Environment) => env.BT_SITE_URL !== undefined)
  @IsString({ message: 'the API account client ID (required when BT_SITE_URL is set)' })
  BT_CLIENT_ID?: string;

  @EnvVar({ description: 'OAuth client secret of the BeyondTrust API account (required with BT_SITE_URL).', sensitive: true, example: '' })
  @ValidateIf((env: Environment) => env.BT_SITE_URL !== undefined)
  @IsString({ message: 'the API account client secret (required when BT_SITE_URL is set)' })
  BT_CLIENT_SECRET?: string;

  @EnvVar({ description: 'Requests per second to the appliance, shared by every pod (the appliance allows 20 per API account).' })
  @IntVar(1, 1000)
  BT_RATE_LIMIT_PER_SECOND = 20;

  @EnvVar({ description: 'Requests per hour to the appliance, shared by every pod (the appliance allows 15000 per API account).' })
  @IntVar(1, 1000000)
  BT_RATE_LIMIT_PER_HOUR = 15_000;

  @EnvVar({
    description:
      'Share of the hourly appliance budget kept for interactive requests (session keys, chat sends, synchronous endpoints), in percent; batch work (reports, recordings, polls, the chat watcher) spends the rest, paced over the hour.',
  })
  @IntVar(0, 90, 'percent')
  BT_INTERACTIVE_RESERVE_PERCENT = 20;

  @EnvVar({
    description:
      'Deadline of one request to the appliance (the whole answer, however slowly it arrives), in milliseconds; for a recording download: the wait for the answer, then the longest pause between bytes.',
  })
  @IntVar(100, 600000, 'milliseconds')
  BT_TIMEOUT_MS = 30_000;

  // --- Session end → ticket --------------------------------------------------------------------------

  @EnvVar({
    description:
      "Shared token of the appliance's outbound events (POST /webhooks/beyondtrust): the token query parameter of the HTTP recipient's URL, or an X-RSB-Events-Token header added by a proxy. Unset disables the endpoint (404).",
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @MinLength(16, { message: 'a token of at least 16 characters' })
  BT_EVENTS_TOKEN?: string;

  @EnvVar({
    description: 'Comma-separated addresses or CIDRs allowed to POST outbound events (the appliance); empty allows any source.',
    example: '',
  })
  @ToList()
  @Matches(CIDR, { each: true, message: 'IPv4/IPv6 addresses or CIDRs such as 10.0.0.0/8' })
  BT_EVENTS_ALLOWED_IPS: string[] = [];

  @EnvVar({
    description: 'Seconds between polls of SupportSessionListing for ended sessions (the backstop for lost events); 0 disables polling.',
  })
  @IntVar(0, 86400, 'seconds')
  BT_POLL_INTERVAL_SECONDS = 60;

  @EnvVar({ description: 'How far each poll reaches back before its cursor, in seconds, so a session recorded late is not missed.' })
  @IntVar(0, 86400, 'seconds')
  BT_POLL_OVERLAP_SECONDS = 300;

  @EnvVar({
    description:
      'Largest file uploaded to a ticket, in bytes; a larger recording is linked instead. Unset: 50 MiB for Zendesk, 1 GiB (the instance default) for ServiceNow, 1 GiB (the Cloud default) for Jira.',
    example: '',
  })
  @IsOptional()
  @IntVar(1024, 10737418240, 'bytes')
  RSB_MAX_ATTACHMENT_BYTES?: number;

  @EnvVar({
    description:
      "Longest a session's note waits for its recordings to be uploaded, in seconds, where they ride on the note (Zendesk); a recording not uploaded by then is named in the note and follows in its own.",
  })
  @IntVar(1, 3600, 'seconds')
  RSB_NOTE_RECORDINGS_WAIT_SECONDS = 300;

  @EnvVar({
    description:
      'Ticket system in which to create a ticket for an ended session whose external key resolves to no ticket: off, zendesk, servicenow or jira.',
  })
  @IsIn(['off', 'zendesk', 'servicenow', 'jira'], { message: 'one of off, zendesk, servicenow, jira' })
  RSB_AUTO_CREATE: 'off' | 'zendesk' | 'servicenow' | 'jira' = 'off';

  @EnvVar({
    description:
      'With RSB_AUTO_CREATE on, only sessions whose external key contains this text create a ticket; empty: every unlinked session.',
    example: '',
  })
  @IsOptional()
  @IsString()
  RSB_AUTO_CREATE_TRIGGER?: string;

  @EnvVar({
    description: 'How long a session-end job keeps retrying (exponential backoff with jitter) before it stays in the failed set, in hours.',
  })
  @IntVar(1, 168, 'hours')
  RSB_SESSION_RETRY_HOURS = 24;

  @EnvVar({
    description: 'How many ended sessions one worker pulls and writes at once, so one slow ticket or appliance answer holds no other.',
  })
  @IntVar(1, 100, 'sessions')
  RSB_SESSION_END_CONCURRENCY = 4;

  @EnvVar({
    description:
      'Session-end report pulls that start within this many milliseconds share one SupportSession request (lsids=), across all workers; a lone session waits no longer than this. 0 pulls each session on its own.',
  })
  @IntVar(0, 5000, 'milliseconds')
  RSB_REPORT_BATCH_WINDOW_MS = 750;

  @EnvVar({
    description: 'The previous outbound events token, still accepted while the appliance is switched to BT_EVENTS_TOKEN (rotation).',
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @MinLength(16, { message: 'a token of at least 16 characters' })
  BT_EVENTS_TOKEN_PREVIOUS?: string;

  // --- Chat bot escalations --------------------------------------------------------------------------

  @EnvVar({
    description:
      'Standard Webhooks secret that signs the callbacks sent to chat bots: whsec_ and base64 of 24 to 64 random bytes (whsec_$(openssl rand -base64 32)). Unset disables /api/v1/chat (404).',
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @IsStandardWebhookSecret()
  RSB_CALLBACK_SECRET?: string;

  @EnvVar({
    description:
      "Follow the appliance's Real-Time State API (the API account needs it): chat escalations learn of acceptance, transfer and end at once, and report the estimated pickup time.",
  })
  @ToBool()
  @IsBoolean({ message: 'true or false' })
  BT_REALTIME_ENABLED = false;

  @EnvVar({ description: 'How often open escalations are read from the appliance for new replies and state changes, in milliseconds.' })
  @IntVar(250, 60000, 'milliseconds')
  RSB_CHAT_POLL_MS = 2000;

  @EnvVar({
    description:
      'Longest wait between two reads of a quiet escalation, in milliseconds: the watcher reads every RSB_CHAT_POLL_MS right after activity and doubles the wait while nothing happens, up to this.',
  })
  @IntVar(250, 600000, 'milliseconds')
  RSB_CHAT_POLL_MAX_MS = 30000;

  @EnvVar({
    description: "How long an escalation waits for its session to appear in the appliance's reports (to learn its lsid), in milliseconds.",
  })
  @IntVar(1000, 120000, 'milliseconds')
  RSB_CHAT_LSID_TIMEOUT_MS = 15000;

  @EnvVar({
    description:
      'Comma-separated hosts (or *.domain patterns) that callbacks may be sent to (chat bots, generic ticket systems); unset: any host whose addresses are public, never private, loopback or link-local ones.',
    example: '',
  })
  @ToList()
  @Matches(ALLOWED_HOST, {
    each: true,
    message: 'host names, *.domain patterns (at least two labels after *.) or IP addresses, comma-separated',
  })
  RSB_CALLBACK_ALLOWED_HOSTS: string[] = [];

  @EnvVar({
    description:
      'The previous RSB_CALLBACK_SECRET during a rotation: callbacks to bots are signed with both, so a bot holding either accepts them.',
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @IsStandardWebhookSecret()
  RSB_CALLBACK_SECRET_PREVIOUS?: string;

  // --- Upscope co-browsing -------------------------------------------------------------------------

  @EnvVar({
    description:
      'Upscope base endpoint (on-premise BASE_ENDPOINT, e.g. https://support.example.com/cobrowsing; the client adds /api). Unset disables co-browsing.',
    example: '',
  })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'an http(s) URL' })
  UPSCOPE_BASE_URL?: string;

  @EnvVar({ description: 'Upscope REST key (the REST_KEY of the on-premise server), sent as Authorization.', sensitive: true, example: '' })
  @ValidateIf((env: Environment) => Boolean(env.UPSCOPE_BASE_URL))
  @IsString({ message: 'the Upscope REST key (required when UPSCOPE_BASE_URL is set)' })
  @MinLength(8, { message: 'the Upscope REST key (required when UPSCOPE_BASE_URL is set)' })
  UPSCOPE_REST_KEY?: string;

  @EnvVar({ description: 'Upscope license token sent with each watch URL request.', sensitive: true, example: '' })
  @ValidateIf((env: Environment) => Boolean(env.UPSCOPE_BASE_URL))
  @IsString({ message: 'the Upscope license token (required when UPSCOPE_BASE_URL is set)' })
  @MinLength(4, { message: 'the Upscope license token (required when UPSCOPE_BASE_URL is set)' })
  UPSCOPE_LICENSE_TOKEN?: string;

  @EnvVar({
    description:
      "Default co-browse permissions, comma-separated name=true|false (allow_click, allow_type, allow_scroll, allow_draw, allow_audio, allow_console, allow_agent_redirect); unset keeps Upscope's defaults.",
    example: 'allow_console=false',
  })
  @ToList()
  @Matches(/^allow_(agent_redirect|audio|click|console|draw|scroll|type)=(true|false)$/, {
    each: true,
    message:
      'name=true|false pairs with names allow_agent_redirect, allow_audio, allow_click, allow_console, allow_draw, allow_scroll, allow_type',
  })
  UPSCOPE_PERMISSIONS: string[] = [];

  @EnvVar({ description: 'Agent name on a watch URL when the ticket names no assignee.' })
  @IsString()
  UPSCOPE_DEFAULT_AGENT_NAME = 'Service Desk';

  // --- Inbound webhooks ------------------------------------------------------------------------------

  @EnvVar({ description: 'How far a signed webhook timestamp may be from our clock, in seconds, before it is refused as a replay.' })
  @IntVar(10, 86400, 'seconds')
  RSB_WEBHOOK_TOLERANCE_SECONDS = 300;

  @EnvVar({ description: 'Largest webhook body accepted, in bytes; larger ones get 413.' })
  @IntVar(1024, 1048576, 'bytes')
  RSB_WEBHOOK_MAX_BYTES = 262_144;

  @EnvVar({
    description:
      'How many ticket events (session key, co-browse and Jump requests) one worker handles at once, so one slow ticket holds no other.',
  })
  @IntVar(1, 200, 'events')
  RSB_TICKET_EVENTS_CONCURRENCY = 8;

  @EnvVar({
    description:
      "How many key write-backs (the public reply, the key's note, a refusal's note) one worker writes at once; they wait on the ticket system's pacing, never on a key.",
  })
  @IntVar(1, 200, 'writes')
  RSB_TICKET_WRITES_CONCURRENCY = 8;

  @EnvVar({
    description:
      'Webhook requests a minute allowed per source address (see RSB_TRUST_PROXY), counted across all pods in Redis; over it, 429 with Retry-After. 0 turns the limit off.',
  })
  @IntVar(0, 1000000, 'requests a minute')
  RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE = 3000;

  // --- Zendesk -------------------------------------------------------------------------------------

  @EnvVar({
    description: 'Zendesk account URL (https://example.zendesk.com). Unset disables Zendesk: /webhooks/zendesk answers 404.',
    example: '',
  })
  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['https', 'http'] },
    { message: 'an http(s) URL such as https://example.zendesk.com' },
  )
  ZENDESK_BASE_URL?: string;

  @EnvVar({ description: 'Zendesk agent email for API token authentication (with ZENDESK_API_TOKEN).', example: '' })
  @ValidateIf((env: Environment) => env.ZENDESK_BASE_URL !== undefined && env.ZENDESK_OAUTH_TOKEN === undefined)
  @IsString({ message: 'the agent email for ZENDESK_API_TOKEN (or set ZENDESK_OAUTH_TOKEN)' })
  ZENDESK_EMAIL?: string;

  @EnvVar({ description: 'Zendesk API token (Admin Center > Apps and integrations > Zendesk API).', sensitive: true, example: '' })
  @ValidateIf((env: Environment) => env.ZENDESK_BASE_URL !== undefined && env.ZENDESK_OAUTH_TOKEN === undefined)
  @IsString({ message: 'a Zendesk API token (or set ZENDESK_OAUTH_TOKEN)' })
  ZENDESK_API_TOKEN?: string;

  @EnvVar({ description: 'Zendesk OAuth access token, instead of ZENDESK_EMAIL + ZENDESK_API_TOKEN.', sensitive: true, example: '' })
  @IsOptional()
  @IsString({ message: 'a Zendesk OAuth access token' })
  ZENDESK_OAUTH_TOKEN?: string;

  @EnvVar({ description: 'Signing secret of the Zendesk webhook (required with ZENDESK_BASE_URL).', sensitive: true, example: '' })
  @ValidateIf((env: Environment) => env.ZENDESK_BASE_URL !== undefined)
  @IsString({ message: 'the webhook signing secret (required when ZENDESK_BASE_URL is set)' })
  ZENDESK_WEBHOOK_SECRET?: string;

  @EnvVar({
    description: 'The previous Zendesk signing secret, still accepted while a rotation is under way.',
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @IsString({ message: 'the previous webhook signing secret' })
  ZENDESK_WEBHOOK_SECRET_PREVIOUS?: string;

  @EnvVar({
    description:
      "Zendesk ticket writes a minute, shared by every pod. Zendesk allows 100 Update Ticket calls a minute per account, agents' own updates included; the default leaves 40 for them. Key replies go before session-end notes.",
  })
  @IntVar(1, 100000, 'writes a minute')
  ZENDESK_RATE_LIMIT_PER_MINUTE = 60;

  // --- ServiceNow ----------------------------------------------------------------------------------

  @EnvVar({
    description: 'ServiceNow instance URL (https://example.service-now.com). Unset disables ServiceNow: /webhooks/servicenow answers 404.',
    example: '',
  })
  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['https', 'http'] },
    { message: 'an http(s) URL such as https://example.service-now.com' },
  )
  SERVICENOW_INSTANCE_URL?: string;

  @EnvVar({ description: 'ServiceNow user for Basic authentication (with SERVICENOW_PASSWORD), or the OAuth user.', example: '' })
  @ValidateIf((env: Environment) => env.SERVICENOW_INSTANCE_URL !== undefined && env.SERVICENOW_CLIENT_ID === undefined)
  @IsString({ message: 'a ServiceNow user (or set SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET)' })
  SERVICENOW_USERNAME?: string;

  @EnvVar({ description: 'Password of SERVICENOW_USERNAME.', sensitive: true, example: '' })
  @ValidateIf((env: Environment) => env.SERVICENOW_INSTANCE_URL !== undefined && env.SERVICENOW_CLIENT_ID === undefined)
  @IsString({ message: 'the password of SERVICENOW_USERNAME (or set SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET)' })
  SERVICENOW_PASSWORD?: string;

  @EnvVar({ description: 'OAuth client ID (System OAuth > Application Registry), instead of Basic authentication.', example: '' })
  @IsOptional()
  @IsString({ message: 'an OAuth client ID' })
  SERVICENOW_CLIENT_ID?: string;

  @EnvVar({ description: 'OAuth client secret of SERVICENOW_CLIENT_ID.', sensitive: true, example: '' })
  @ValidateIf((env: Environment) => env.SERVICENOW_CLIENT_ID !== undefined)
  @IsString({ message: 'the OAuth client secret (required with SERVICENOW_CLIENT_ID)' })
  SERVICENOW_CLIENT_SECRET?: string;

  @EnvVar({
    description: 'Secret the ServiceNow Business Rule authenticates with (Basic password, X-RSB-Webhook-Secret header or HMAC key).',
    sensitive: true,
    example: '',
  })
  @ValidateIf((env: Environment) => env.SERVICENOW_INSTANCE_URL !== undefined)
  @IsString({ message: 'the webhook secret (required when SERVICENOW_INSTANCE_URL is set)' })
  @MinLength(16, { message: 'a webhook secret of at least 16 characters' })
  SERVICENOW_WEBHOOK_SECRET?: string;

  @EnvVar({
    description:
      'Accept only Business Rule requests signed over an X-RSB-Timestamp (docs/servicenow.md): the secret header, Basic auth and untimed signatures are refused, so a captured request is useless after RSB_WEBHOOK_TOLERANCE_SECONDS.',
  })
  @ToBool()
  @IsBoolean({ message: 'true or false' })
  SERVICENOW_REQUIRE_TIMESTAMP = false;

  @EnvVar({ description: 'ServiceNow table whose records are the tickets.' })
  @Matches(/^[a-z0-9_]{1,80}$/, { message: 'a table name such as incident' })
  SERVICENOW_TABLE = 'incident';

  @EnvVar({
    description: 'The previous SERVICENOW_WEBHOOK_SECRET, still accepted while the Business Rule is switched to the new one (rotation).',
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @MinLength(16, { message: 'a webhook secret of at least 16 characters' })
  SERVICENOW_WEBHOOK_SECRET_PREVIOUS?: string;

  @EnvVar({
    description:
      "ServiceNow calls a minute, shared by every pod (match the instance's REST rate limit rules). 0: unlimited, paced only by the 429s, which pause every pod for their Retry-After.",
  })
  @IntVar(0, 100000, 'calls a minute')
  SERVICENOW_RATE_LIMIT_PER_MINUTE = 0;

  // --- Jira Service Management ---------------------------------------------------------------------

  @EnvVar({
    description: 'Jira site URL (https://example.atlassian.net). Unset disables Jira: /webhooks/jira answers 404.',
    example: '',
  })
  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['https', 'http'] },
    { message: 'an http(s) URL such as https://example.atlassian.net' },
  )
  JIRA_BASE_URL?: string;

  @EnvVar({ description: 'Atlassian account email for API token authentication (with JIRA_API_TOKEN).', example: '' })
  @ValidateIf((env: Environment) => env.JIRA_BASE_URL !== undefined && env.JIRA_OAUTH_TOKEN === undefined)
  @IsString({ message: 'the account email for JIRA_API_TOKEN (or set JIRA_OAUTH_TOKEN)' })
  JIRA_EMAIL?: string;

  @EnvVar({ description: 'Atlassian API token of JIRA_EMAIL (id.atlassian.com > Security > API tokens).', sensitive: true, example: '' })
  @ValidateIf((env: Environment) => env.JIRA_BASE_URL !== undefined && env.JIRA_OAUTH_TOKEN === undefined)
  @IsString({ message: 'an Atlassian API token (or set JIRA_OAUTH_TOKEN)' })
  JIRA_API_TOKEN?: string;

  @EnvVar({ description: 'OAuth 2.0 access token, instead of JIRA_EMAIL + JIRA_API_TOKEN.', sensitive: true, example: '' })
  @IsOptional()
  @IsString({ message: 'an OAuth 2.0 access token' })
  JIRA_OAUTH_TOKEN?: string;

  @EnvVar({
    description:
      'Secret of the Jira admin webhook (X-Hub-Signature) and of Automation "Send web request" rules (X-RSB-Webhook-Secret header); required with JIRA_BASE_URL.',
    sensitive: true,
    example: '',
  })
  @ValidateIf((env: Environment) => env.JIRA_BASE_URL !== undefined)
  @IsString({ message: 'the webhook secret (required when JIRA_BASE_URL is set)' })
  @MinLength(16, { message: 'a webhook secret of at least 16 characters' })
  JIRA_WEBHOOK_SECRET?: string;

  @EnvVar({ description: 'The previous JIRA_WEBHOOK_SECRET, still accepted while a rotation is under way.', sensitive: true, example: '' })
  @IsOptional()
  @MinLength(16, { message: 'a webhook secret of at least 16 characters' })
  JIRA_WEBHOOK_SECRET_PREVIOUS?: string;

  @EnvVar({ description: 'Service desk id in which RSB_AUTO_CREATE=jira creates requests (required with it).', example: '' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'the numeric service desk id' })
  JIRA_SERVICE_DESK_ID?: string;

  @EnvVar({ description: 'Request type id of the requests RSB_AUTO_CREATE=jira creates (required with it).', example: '' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'the numeric request type id' })
  JIRA_REQUEST_TYPE_ID?: string;

  // --- Any other ticket system ---------------------------------------------------------------------

  @EnvVar({
    description:
      'Standard Webhooks secret of POST /webhooks/generic and of the callbacks rs-bridge sends back: whsec_ and base64 of 24 to 64 random bytes (whsec_$(openssl rand -base64 32)). Unset disables it.',
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @IsStandardWebhookSecret()
  GENERIC_WEBHOOK_SECRET?: string;

  @EnvVar({
    description:
      'The previous GENERIC_WEBHOOK_SECRET during a rotation: /webhooks/generic accepts either, and callbacks are signed with both.',
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @IsStandardWebhookSecret()
  GENERIC_WEBHOOK_SECRET_PREVIOUS?: string;

  // --- Every ticket system -------------------------------------------------------------------------

  @EnvVar({
    description:
      'Deadline of one request to a ticket system or callback URL (the whole answer), in milliseconds; for a file upload: the longest pause in the upload, then the wait for the answer after it.',
  })
  @IntVar(100, 600000, 'milliseconds')
  RSB_TICKET_TIMEOUT_MS = 30_000;
}
