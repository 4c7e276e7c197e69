/**
 * `npm run sandbox`: rs-bridge on this machine in the `all` role, against the local Redis and the
 * built-in fake vendor servers, with settings that need no editing. Anything set in the environment
 * wins over these defaults (set BT_SITE_URL to use a real appliance instead of the fake).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';
import { FakeAppliance } from '../test/fakes/beyondtrust/fake-appliance';
import { FakeJira } from '../test/fakes/jira/fake-jira';
import { FakeServiceNow } from '../test/fakes/servicenow/fake-servicenow';
import { FakeUpscope } from '../test/fakes/upscope/fake-upscope';
import { FakeZendesk } from '../test/fakes/zendesk/fake-zendesk';
import { GenericReceiver } from './sandbox-receiver';

const SANDBOX_TOKEN = 'sandbox-token-not-for-production';
const SANDBOX_EVENTS_TOKEN = 'sandbox-events-token-not-for-production';
const SANDBOX_ADMIN = { user: 'admin', password: 'sandbox-admin-not-for-production' };
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main(): Promise<void> {
  const defaults: Record<string, string> = {
    PORT: '3000',
    HOST: '127.0.0.1',
    RSB_ROLE: 'all',
    RSB_REDIS_PREFIX: 'rsb-sandbox',
    RSB_API_TOKENS: SANDBOX_TOKEN,
    // No load balancer in front of the sandbox: Ctrl-C stops it at once.
    RSB_DRAIN_SECONDS: '0',
    // Standard Webhooks secrets (whsec_ + base64): chat escalations (/api/v1/chat) sign their callbacks with
    // the first, /webhooks/generic checks and signs with the second. A real deployment makes its own:
    // whsec_$(openssl rand -base64 32).
    RSB_CALLBACK_SECRET: `whsec_${Buffer.from('sandbox-callback-secret-not-for-production').toString('base64')}`,
    GENERIC_WEBHOOK_SECRET: `whsec_${Buffer.from('sandbox-generic-secret-not-for-production').toString('base64')}`,
    // Callbacks to a bot or ticket system on this machine; a real deployment lists its own hosts or none.
    RSB_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
    // The queue dashboard at /admin/queues (its Progress and Logs tabs show a recording transfer moving).
    RSB_ADMIN_USER: SANDBOX_ADMIN.user,
    RSB_ADMIN_PASSWORD: SANDBOX_ADMIN.password,
  };
  let appliance: FakeAppliance | undefined;
  if (!process.env.BT_SITE_URL) {
    appliance = await new FakeAppliance().start(port('SANDBOX_APPLIANCE_PORT', 3101));
    appliance.controlRoutes = true;
    Object.assign(defaults, {
      BT_SITE_URL: appliance.url,
      BT_CLIENT_ID: 'rsb-client',
      BT_CLIENT_SECRET: 'rsb-secret-0123456789',
      BT_EVENTS_TOKEN: SANDBOX_EVENTS_TOKEN,
    });
  }
  let zendesk: FakeZendesk | undefined;
  if (!process.env.ZENDESK_BASE_URL) {
    zendesk = await new FakeZendesk().start(port('SANDBOX_ZENDESK_PORT', 3102));
    zendesk.autoCreateTickets = true;
    Object.assign(defaults, {
      ZENDESK_BASE_URL: zendesk.url,
      ZENDESK_EMAIL: zendesk.email,
      ZENDESK_API_TOKEN: zendesk.apiToken,
      ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
    });
  }
  let jira: FakeJira | undefined;
  if (!process.env.JIRA_BASE_URL) {
    jira = await new FakeJira().start(port('SANDBOX_JIRA_PORT', 3106));
    jira.autoCreateIssues = true;
    Object.assign(defaults, {
      JIRA_BASE_URL: jira.url,
      JIRA_EMAIL: jira.email,
      JIRA_API_TOKEN: jira.apiToken,
      JIRA_WEBHOOK_SECRET: jira.webhookSecret,
    });
  }
  let upscope: FakeUpscope | undefined;
  if (!process.env.UPSCOPE_BASE_URL) {
    upscope = await new FakeUpscope().start(port('SANDBOX_UPSCOPE_PORT', 3103));
    upscope.addVisitor({ short_id: 'casey01', name: 'Casey Customer', email: 'casey@example.com', lookup_code: '4711' });
    Object.assign(defaults, {
      UPSCOPE_BASE_URL: upscope.url,
      UPSCOPE_REST_KEY: upscope.restKey,
      UPSCOPE_LICENSE_TOKEN: upscope.licenseToken,
    });
  }
  let servicenow: FakeServiceNow | undefined;
  if (!process.env.SERVICENOW_INSTANCE_URL) {
    servicenow = await new FakeServiceNow().start(port('SANDBOX_SERVICENOW_PORT', 3104));
    Object.assign(defaults, {
      SERVICENOW_INSTANCE_URL: servicenow.url,
      SERVICENOW_USERNAME: servicenow.username,
      SERVICENOW_PASSWORD: servicenow.password,
      SERVICENOW_WEBHOOK_SECRET: servicenow.webhookSecret,
    });
  }
  const receiver = await new GenericReceiver(process.env.GENERIC_WEBHOOK_SECRET ?? defaults.GENERIC_WEBHOOK_SECRET).start(
    port('SANDBOX_RECEIVER_PORT', 3105),
  );
  for (const [name, value] of Object.entries(defaults)) if (!process.env[name]) process.env[name] = value;

  const base = `http://${process.env.HOST}:${process.env.PORT}`;
  // The fake appliance sends its outbound events to the sandbox, as an HTTP recipient would be set up.
  appliance?.sendOutboundEventsTo(`${base}/webhooks/beyondtrust`, process.env.BT_EVENTS_TOKEN!, 'query', 1000);
  const token = process.env.RSB_API_TOKENS === SANDBOX_TOKEN ? SANDBOX_TOKEN : '<your token>';
  const banner =
    [
      '',
      'rs-bridge sandbox',
      `  health:     curl ${base}/healthz   and   curl ${base}/readyz`,
      `  API:        curl -H 'Authorization: Bearer ${token}' ${base}/api/v1/status`,
      appliance
        ? `  appliance:  fake BeyondTrust appliance at ${appliance.url} (client rsb-client / rsb-secret-0123456789), e.g.\n` +
          `              T=$(curl -s -u rsb-client:rsb-secret-0123456789 -d grant_type=client_credentials ${appliance.url}/oauth2/token | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')\n` +
          `              curl -H "Authorization: Bearer $T" '${appliance.url}/api/command?action=generate_session_key&type=support&queue_id=general'`
        : `  appliance:  ${process.env.BT_SITE_URL}`,
      zendesk
        ? `  zendesk:    fake Zendesk at ${zendesk.url}; fire a signed sample ticket, play its remote session in the\n` +
          `              fake appliance and see what lands on the ticket (key, then transcript and recording):\n              npm run sandbox:ticket`
        : `  zendesk:    ${process.env.ZENDESK_BASE_URL}`,
      jira
        ? `  jira:       fake Jira at ${jira.url}; the same with a labelled issue: npm run sandbox:ticket -- jira`
        : `  jira:       ${process.env.JIRA_BASE_URL}`,
      upscope
        ? `  upscope:    fake Upscope at ${upscope.url} (visitor casey@example.com, lookup code 4711), e.g.\n` +
          `              curl -H 'Authorization: Bearer ${token}' -H 'content-type: application/json' -d '{"visitor":{"lookupCode":"4711"},"agent":{"id":"1","name":"Ada"}}' ${base}/api/v1/cobrowse/watch-urls`
        : `  upscope:    ${process.env.UPSCOPE_BASE_URL}`,
      servicenow
        ? `  servicenow: fake ServiceNow at ${servicenow.url} (${servicenow.username} / ${servicenow.password}); the same round trip:\n              npm run sandbox:ticket -- servicenow`
        : `  servicenow: ${process.env.SERVICENOW_INSTANCE_URL}`,
      `  generic:    a receiver of the callbacks at ${receiver.url}/callback (updates by ticket: ${receiver.url}/tickets/<id>):\n              npm run sandbox:ticket -- generic`,
      process.env.RSB_ADMIN_USER === SANDBOX_ADMIN.user
        ? `  queues:     ${base}/admin/queues  (user ${SANDBOX_ADMIN.user}, password ${SANDBOX_ADMIN.password})`
        : `  queues:     ${base}/admin/queues`,
      `  API docs:   ${base}/docs`,
      '  stop:       Ctrl+C',
      '',
    ].join('\n') + '\n';
  startBridge(banner);
}

/**
 * rs-bridge itself runs as a child process, as in production: its JSON log lines come through here and
 * are made readable on a terminal (SANDBOX_LOG_FORMAT=json|pretty overrides). The banner comes last, once
 * the bridge listens and its start-up logs have gone quiet, so it is not buried under them.
 */
function startBridge(banner: string): void {
  const pretty =
    (process.env.SANDBOX_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty'
      ? prettyFactory({ colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service,role' })
      : undefined;
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'src', 'main.ts')], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let listening = false;
  let quiet: NodeJS.Timeout | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    process.stdout.write(pretty ? pretty(line) : `${line}\n`);
    listening ||= line.includes('rs-bridge listening on');
    if (!listening || !banner) return;
    clearTimeout(quiet);
    quiet = setTimeout(() => {
      process.stdout.write(banner);
      banner = '';
    }, 700);
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT')).on('SIGTERM', forward('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
}

void main();
