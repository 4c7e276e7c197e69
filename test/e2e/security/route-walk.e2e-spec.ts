import { Queue } from 'bullmq';
import { QUEUE_NAMES } from '../../../src/jobs/queues';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeJira } from '../../fakes/jira/fake-jira';
import { FakeServiceNow } from '../../fakes/servicenow/fake-servicenow';
import { FakeUpscope } from '../../fakes/upscope/fake-upscope';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp } from '../../support/app';
import { applianceEnv, jiraEnv, servicenowEnv, upscopeEnv, zendeskEnv } from '../../support/fake-env';
import { freePort, spawnTs } from '../../support/child';
import { REDIS_URL, uniquePrefix } from '../../support/redis';
import { AppRoute, closeRawRequests, concretePath, rawRequest, spellings, startAppWithRoutes } from '../../support/routes';

/**
 * Routes anyone may call. Every other route the app registers must refuse a caller without credentials,
 * however its path is spelled, so a route added later is walked without anyone editing this file.
 */
const PUBLIC = new Set(['/healthz', '/readyz', '/metrics', '/docs', '/docs-json', '/docs-yaml', '/docs/assets/:file']);

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The router's own 404 (no route matched): Nest answers "Cannot <METHOD> <path>". */
const routerNotFound = (status: number, body: string, method: string) =>
  status === 404 && (method === 'HEAD' || new RegExp(`"message":"Cannot ${method} `).test(body));

describe('Every route refuses a caller without credentials, whatever the spelling of its path', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let servicenow: FakeServiceNow;
  let upscope: FakeUpscope;
  let jira: FakeJira;
  let sut: RunningApp & { routes: AppRoute[] };

  beforeAll(async () => {
    [appliance, zendesk, servicenow, upscope, jira] = await Promise.all([
      new FakeAppliance().start(),
      new FakeZendesk().start(),
      new FakeServiceNow().start(),
      new FakeUpscope().start(),
      new FakeJira().start(),
    ]);
    jira.autoCreateIssues = true;
    zendesk.autoCreateTickets = true;
    // Everything configured, so that a handler reached by mistake would answer something other than 404.
    sut = await startAppWithRoutes({
      RSB_ROLE: 'api',
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
      ...servicenowEnv(servicenow),
      ...upscopeEnv(upscope),
      ...jiraEnv(jira),
      GENERIC_WEBHOOK_SECRET: `whsec_${Buffer.from('generic-secret-0123456789').toString('base64')}`,
      RSB_CALLBACK_SECRET: `whsec_${Buffer.from('callback-secret-0123456789').toString('base64')}`,
      BT_EVENTS_TOKEN: 'events-token-0123456789',
      RSB_ADMIN_USER: 'ops',
      RSB_ADMIN_PASSWORD: 'ops-password-0123',
      // Thousands of requests from one address: the flood guard (tested on its own) would answer 429.
      RSB_API_RATE_LIMIT_PER_MINUTE: '0',
      RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE: '0',
    });
  });
  afterAll(async () => {
    closeRawRequests();
    await sut?.close();
    await Promise.all([appliance?.stop(), zendesk?.stop(), servicenow?.stop(), upscope?.stop(), jira?.stop()]);
  });

  it('knows the routes from the router, including every /api/v1 controller, the webhooks and the dashboard', () => {
    const urls = new Set(sut.routes.map((r) => r.url));
    for (const url of [
      '/api/v1/status',
      '/api/v1/admin/queues',
      '/api/v1/tickets/:system/:ticketId/session-key',
      '/api/v1/tickets/:system/:ticketId/sessions',
      '/api/v1/sessions/:lsid/resync',
      '/api/v1/chat/escalations',
      '/api/v1/cobrowse/watch-urls',
      '/webhooks/zendesk',
      '/webhooks/jira',
      '/webhooks/beyondtrust',
      '/admin/queues',
    ])
      expect(urls).toContain(url);
    expect(sut.routes.length).toBeGreaterThan(30);
  });

  it('answers 401 or the router 404 to every spelling of every guarded route, serving no handler and queueing nothing', async () => {
    const guarded = sut.routes.filter((r) => !PUBLIC.has(r.url));
    const served: string[] = [];
    let sent = 0;
    for (const route of guarded) {
      const path = concretePath(route.url);
      for (const spelling of [path, ...spellings(path)]) {
        const body = BODY_METHODS.has(route.method) ? '{}' : undefined;
        const answer = await rawRequest(sut.url, route.method, spelling, { body });
        sent += 1;
        const refused = answer.status === 401 || routerNotFound(answer.status, answer.body, route.method);
        if (!refused) served.push(`${route.method} ${spelling} (${route.url}) → ${answer.status} ${answer.body.slice(0, 120)}`);
      }
    }
    expect(sent).toBeGreaterThan(1000);
    expect(served).toEqual([]);

    // Nothing reached a vendor or a queue.
    expect(appliance.requests.filter((r) => r.params.action !== undefined)).toEqual([]);
    expect(zendesk.requests).toEqual([]);
    expect(servicenow.requests).toEqual([]);
    expect(jira.requests).toEqual([]);
    expect(upscope.watchRequests).toEqual([]);
    for (const name of [...QUEUE_NAMES]) {
      const queue = new Queue(name, { connection: { url: REDIS_URL }, prefix: sut.prefix });
      const counts = await queue.getJobCounts();
      await queue.close();
      expect({ name, jobs: Object.values(counts).reduce((a, b) => a + b, 0) }).toEqual({ name, jobs: 0 });
    }
  });
});

describe('A controller under /api/ without @ApiAuth()', () => {
  it('stops the process at boot, naming the controller', async () => {
    const child = spawnTs('test/e2e/fixtures/unmarked-api.main.ts', {
      REDIS_URL,
      RSB_REDIS_PREFIX: uniquePrefix('unmarked'),
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    });
    const { code } = await child.exited;
    expect(code).toBe(1);
    expect(child.stderr()).toContain('ForgottenController serve /api/ routes without @ApiAuth()');
  });
});
