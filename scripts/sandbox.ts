/**
 * `npm run sandbox`: rs-bridge on this machine in the `all` role, against the local Redis and the
 * built-in fake vendor servers, with settings that need no editing. Anything set in the environment
 * wins over these defaults (set BT_SITE_URL to use a real appliance instead of the fake).
 */
import { run } from '../src/bootstrap';
import { FakeAppliance } from '../test/fakes/beyondtrust/fake-appliance';
import { FakeJira } from '../test/fakes/jira/fake-jira';
import { FakeUpscope } from '../test/fakes/upscope/fake-upscope';
import { FakeZendesk } from '../test/fakes/zendesk/fake-zendesk';

const SANDBOX_TOKEN = 'sandbox-token-not-for-production';
const SANDBOX_EVENTS_TOKEN = 'sandbox-events-token-not-for-production';

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
  };
  let appliance: FakeAppliance | undefined;
  if (!process.env.BT_SITE_URL) {
    appliance = await new FakeAppliance().start(Number(process.env.SANDBOX_APPLIANCE_PORT ?? 3101));
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
    zendesk = await new FakeZendesk().start(Number(process.env.SANDBOX_ZENDESK_PORT ?? 3102));
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
    jira = await new FakeJira().start(Number(process.env.SANDBOX_JIRA_PORT ?? 3104));
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
    upscope = await new FakeUpscope().start(Number(process.env.SANDBOX_UPSCOPE_PORT ?? 3103));
    upscope.addVisitor({ short_id: 'casey01', name: 'Casey Customer', email: 'casey@example.com', lookup_code: '4711' });
    Object.assign(defaults, {
      UPSCOPE_BASE_URL: upscope.url,
      UPSCOPE_REST_KEY: upscope.restKey,
      UPSCOPE_LICENSE_TOKEN: upscope.licenseToken,
    });
  }
  for (const [name, value] of Object.entries(defaults)) if (!process.env[name]) process.env[name] = value;

  const base = `http://${process.env.HOST}:${process.env.PORT}`;
  // The fake appliance sends its outbound events to the sandbox, as an HTTP recipient would be set up.
  appliance?.sendOutboundEventsTo(`${base}/webhooks/beyondtrust`, process.env.BT_EVENTS_TOKEN!, 'query', 1000);
  const token = process.env.RSB_API_TOKENS === SANDBOX_TOKEN ? SANDBOX_TOKEN : '<your token>';
  process.stderr.write(
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
      '  stop:       Ctrl+C',
      '',
    ].join('\n') + '\n',
  );
  run();
}

void main();
