import { IsBoolean, IsIn, IsOptional, IsString, IsUrl, Matches, MinLength, ValidateIf } from 'class-validator';
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
/** An IPv4 or IPv6 address with an optional prefix length. */
const CIDR = /^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[0-9a-fA-F:]+(\/\d{1,3})?)$/;

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
    description: 'Redis connection URL (redis:// or rediss://, may carry a password). Use AOF persistence and maxmemory-policy noeviction.',
    sensitive: true,
  })
  @Matches(/^rediss?:\/\/\S+$/, { message: 'a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @EnvVar({
    description: 'Prefix of every Redis key and BullMQ queue of this deployment; use {rsb} style hash tags on Redis Cluster.',
  })
  @Matches(/^[A-Za-z0-9_.:{}-]{1,64}$/, { message: '1 to 64 letters, digits or _ . : { } -' })
  RSB_REDIS_PREFIX = 'rsb';

  @EnvVar({ description: `Log level: ${LOG_LEVELS.join(', ')}.` })
  @IsIn(LOG_LEVELS, { message: `one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  @EnvVar({
    description: 'Comma-separated bearer tokens accepted on /api/v1/* (at least 16 characters each); empty rejects every API call.',
    sensitive: true,
    example: 'change-me-to-a-long-random-token',
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
    description: 'Timeout of one request to the appliance, in milliseconds (recording downloads: time to first byte and between bytes).',
  })
  @IntVar(100, 600000, 'milliseconds')
  BT_TIMEOUT_MS = 30_000;

  // --- Session end → ticket --------------------------------------------------------------------------

  @EnvVar({
    description:
      "Shared token of the appliance's outbound events (POST /webhooks/beyondtrust): the outbound_event_token form field, the token query parameter or the X-RSB-Events-Token header. Unset disables the endpoint (404).",
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
      'Largest file uploaded to a ticket, in bytes; a larger recording is linked instead. Unset: 50 MiB for Zendesk, 1 GiB (the instance default) for ServiceNow.',
    example: '',
  })
  @IsOptional()
  @IntVar(1024, 10737418240, 'bytes')
  RSB_MAX_ATTACHMENT_BYTES?: number;

  @EnvVar({
    description:
      'Ticket system in which to create a ticket for an ended session whose external key resolves to no ticket: off, zendesk or servicenow.',
  })
  @IsIn(['off', 'zendesk', 'servicenow'], { message: 'one of off, zendesk, servicenow' })
  RSB_AUTO_CREATE: 'off' | 'zendesk' | 'servicenow' = 'off';

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

  // --- Chat bot escalations --------------------------------------------------------------------------

  @EnvVar({
    description:
      'Standard Webhooks secret that signs the callbacks sent to chat bots (whsec_... or 16+ characters). Unset disables /api/v1/chat (404).',
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @MinLength(16, { message: 'a secret of at least 16 characters (whsec_<base64> or any string)' })
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
    description: "How long an escalation waits for its session to appear in the appliance's reports (to learn its lsid), in milliseconds.",
  })
  @IntVar(1000, 120000, 'milliseconds')
  RSB_CHAT_LSID_TIMEOUT_MS = 15000;

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

  @EnvVar({ description: 'ServiceNow table whose records are the tickets.' })
  @Matches(/^[a-z0-9_]{1,80}$/, { message: 'a table name such as incident' })
  SERVICENOW_TABLE = 'incident';

  // --- Any other ticket system ---------------------------------------------------------------------

  @EnvVar({
    description:
      'Standard Webhooks secret of POST /webhooks/generic and of the callbacks rs-bridge sends back (whsec_... or 16+ characters). Unset disables it.',
    sensitive: true,
    example: '',
  })
  @IsOptional()
  @MinLength(16, { message: 'a secret of at least 16 characters (whsec_<base64> or any string)' })
  GENERIC_WEBHOOK_SECRET?: string;
}
