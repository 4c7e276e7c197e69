import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeJira } from '../fakes/jira/fake-jira';
import { FakeServiceNow } from '../fakes/servicenow/fake-servicenow';
import { FakeUpscope } from '../fakes/upscope/fake-upscope';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { startFakeBridge, FakeBridge } from '../support/fake-bridge';
import { RunningApp, startApp, TEST_API_TOKEN } from '../support/app';
import { freePort, spawnTs, until } from '../support/child';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { applianceEnv, jiraEnv, servicenowEnv, upscopeEnv, zendeskEnv } from '../support/fake-env';

const ADMIN = { user: 'ops', password: 'ops-password-0123' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const api = (url: string, init: RequestInit = {}) =>
  fetch(url, { ...init, headers: { authorization: `Bearer ${TEST_API_TOKEN}`, ...init.headers } });

describe('Operating rs-bridge: metrics, dashboard, OpenAPI, admin API', () => {
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let bridge: FakeBridge;

  beforeAll(async () => {
    bridge = await startFakeBridge({ RSB_ADMIN_USER: ADMIN.user, RSB_ADMIN_PASSWORD: ADMIN.password }, { events: false });
    ({ zendesk, sut } = bridge);
  });
  afterAll(() => bridge?.stop());

  const ticketRequest = (id: string, secret?: string) =>
    zendesk.sendWebhook(
      `${sut.url}/webhooks/zendesk`,
      { action: 'session.requested', ticket: { id, subject: 'Secret project Falcon', requester: { email: 'casey.private@example.com' } } },
      { secret },
    );

  it('counts requests, webhook verifications, jobs, appliance and ticket-system calls, and queue depths; no contents or secrets', async () => {
    zendesk.createTicket('901');
    expect((await ticketRequest('901')).status).toBe(202);
    expect((await ticketRequest('901', 'not-the-secret-0123456789')).status).toBe(401);
    await until(async () => zendesk.tickets.get('901')!.comments.length >= 2, 10_000, 'the key on the ticket');
    const metrics = await until(
      async () => {
        const text = await (await fetch(`${sut.url}/metrics`)).text();
        return text.includes('rsb_jobs_total{queue="ticket-events",outcome="completed"}') && text;
      },
      10_000,
      'the job metric',
    );
    for (const line of [
      'rsb_http_requests_total{method="POST",route="/webhooks/zendesk",status="202"}',
      'rsb_http_requests_total{method="POST",route="/webhooks/zendesk",status="401"}',
      'rsb_webhook_verifications_total{system="zendesk",result="accepted"}',
      'rsb_webhook_verifications_total{system="zendesk",result="invalid_signature"}',
      'rsb_appliance_requests_total{operation="generate_session_key",status="200"}',
      'rsb_appliance_token_requests_total',
      'rsb_ticket_system_requests_total{system="zendesk",status="200"}',
      'rsb_queue_jobs{queue="ticket-events",state="completed"}',
      'rsb_queue_jobs{queue="ticket-writes",state="completed"}',
      'rsb_queue_jobs{queue="recordings",state="failed"} 0',
      'rsb_job_duration_seconds_bucket{le="0.01",queue="ticket-events",outcome="completed"}',
      'rsb_rate_limiter_wait_seconds_count',
    ])
      expect(metrics).toContain(line);
    for (const secret of ['Falcon', 'casey.private', zendesk.webhookSecret, zendesk.apiToken, 'rsb-secret-0123456789'])
      expect(metrics).not.toContain(secret);
  });

  it('serves the queue dashboard behind basic auth, listing every queue', async () => {
    expect((await fetch(`${sut.url}/admin/queues`)).status).toBe(401);
    expect((await fetch(`${sut.url}/admin/queues`, { headers: { authorization: basic(ADMIN.user, 'wrong-password-000') } })).status).toBe(
      401,
    );
    const page = await fetch(`${sut.url}/admin/queues`, { headers: { authorization: basic(ADMIN.user, ADMIN.password) } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>rs-bridge queues</title>');
    const data = (await (
      await fetch(`${sut.url}/admin/queues/api/queues`, { headers: { authorization: basic(ADMIN.user, ADMIN.password) } })
    ).json()) as {
      queues: { name: string }[];
    };
    expect(data.queues.map((q) => q.name).sort()).toEqual([
      'chat-callbacks',
      'chat-watch',
      'recordings',
      'session-end',
      'session-poll',
      'ticket-events',
      'ticket-writes',
    ]);
  });

  it('publishes the OpenAPI document with the webhook and API bodies from the DTOs', async () => {
    const doc = (await (await fetch(`${sut.url}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; security?: unknown }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/webhooks/zendesk',
        '/webhooks/servicenow',
        '/webhooks/generic',
        '/webhooks/beyondtrust',
        '/api/v1/tickets/{system}/{ticketId}/session-key',
        '/api/v1/sessions/{lsid}/resync',
        '/api/v1/cobrowse/watch-urls',
        '/api/v1/admin/queues/{queue}/failed',
      ]),
    );
    expect(doc.paths['/webhooks/servicenow'].post.requestBody!.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ServiceNowBody',
    });
    expect(doc.components.schemas.ServiceNowBody.required).toEqual(expect.arrayContaining(['action', 'delivery_id', 'sys_id', 'number']));
    expect(doc.components.schemas.ZendeskTriggerBody.properties!.ticket).toEqual({ $ref: '#/components/schemas/ZendeskTriggerTicket' });
    expect(doc.components.schemas.WatchUrlRequestDto.properties).toHaveProperty('agent');
    expect(doc.paths['/api/v1/cobrowse/watch-urls'].post.security).toEqual([{ bearer: [] }]);
    const ui = await fetch(`${sut.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('/docs/assets/swagger-ui-bundle.js');
    expect((await fetch(`${sut.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
  });

  it('lists failed jobs with their reasons and retries one or all', async () => {
    // Ticket 902 does not exist yet: the key is made, and its write-back gets a 404 and gives up.
    const jobId = `write-${((await (await ticketRequest('902')).json()) as { jobId: string }).jobId}`;
    const listed = await until(
      async () => {
        const body = (await (await api(`${sut.url}/api/v1/admin/queues/ticket-writes/failed`)).json()) as {
          jobs: { id: string; failedReason: string }[];
        };
        return body.jobs.find((j) => j.id === jobId);
      },
      10_000,
      'the failed job',
    );
    expect(listed.failedReason).toContain('zendesk: HTTP 404');
    zendesk.createTicket('902');
    const retried = await api(`${sut.url}/api/v1/admin/queues/ticket-writes/failed/${jobId}/retry`, { method: 'POST' });
    expect(retried.status).toBe(202);
    await until(async () => zendesk.tickets.get('902')!.comments.length >= 2, 10_000, 'the retried job to write');
    expect((await api(`${sut.url}/api/v1/admin/queues/ticket-writes/failed/${jobId}/retry`, { method: 'POST' })).status).toBe(404);

    const all = await api(`${sut.url}/api/v1/admin/queues/ticket-writes/failed/retry`, { method: 'POST' });
    expect(all.status).toBe(202);
    expect(await all.json()).toEqual({ queue: 'ticket-writes', retried: 0 });
    expect((await api(`${sut.url}/api/v1/admin/queues/nope/failed`)).status).toBe(404);

    const links = (await (await api(`${sut.url}/api/v1/admin/links/tickets/zendesk/902`)).json()) as {
      links: { externalKey: string; shortKey: string }[];
    };
    expect(links.links).toEqual([expect.objectContaining({ externalKey: '902', shortKey: expect.stringMatching(/^\d{7}$/) })]);
    expect((await api(`${sut.url}/api/v1/admin/sessions/unknown-lsid`)).status).toBe(404);
    expect((await fetch(`${sut.url}/api/v1/admin/queues`)).status).toBe(401);
  });

  it('shows cheap checks on /readyz?verbose=1', async () => {
    const body = (await (await fetch(`${sut.url}/readyz?verbose=1`)).json()) as {
      status: string;
      checks: { area: string; name: string; ok: boolean }[];
    };
    expect(body.status).toBe('ok');
    expect(body.checks.map((c) => `${c.area} ${c.name}`)).toEqual(['Redis reachable', 'Redis AOF persistence', 'Redis eviction policy']);
  });
});

describe('the dashboard without credentials configured', () => {
  it('does not exist', async () => {
    const sut = await startApp();
    try {
      expect((await fetch(`${sut.url}/admin/queues`)).status).toBe(404);
    } finally {
      await sut.close();
    }
  });
});

describe('npm run doctor', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let servicenow: FakeServiceNow;
  let upscope: FakeUpscope;
  let jira: FakeJira;
  let durableRedis: ChildProcess;
  let durableUrl: string;
  const prefix = uniquePrefix('doctor');

  beforeAll(async () => {
    appliance = await new FakeAppliance({
      accounts: [
        { clientId: 'rsb-client', clientSecret: 'rsb-secret-0123456789', permissions: FakeAppliance.FULL_PERMISSIONS },
        {
          clientId: 'no-reports',
          clientSecret: 'no-reports-secret-0123',
          permissions: { ...FakeAppliance.FULL_PERMISSIONS, perm_reporting_support: '0', perm_real_time_state: '0' },
        },
      ],
    }).start();
    zendesk = await new FakeZendesk().start();
    zendesk.ticketFields.add('360000111');
    servicenow = await new FakeServiceNow().start();
    upscope = await new FakeUpscope().start();
    jira = await new FakeJira().start();
    // A Redis as production should run it (AOF on, noeviction), beside the machine's test Redis.
    const port = await freePort();
    durableRedis = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--appendonly',
        'yes',
        '--maxmemory-policy',
        'noeviction',
        '--dir',
        mkdtempSync(join(tmpdir(), 'rsb-redis-')),
        '--save',
        '',
      ],
      {
        stdio: 'ignore',
      },
    );
    durableUrl = `redis://127.0.0.1:${port}`;
    await until(
      async () => {
        const probe = new Redis(durableUrl, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        const pong = await probe.ping().catch(() => undefined);
        probe.disconnect();
        return pong === 'PONG';
      },
      10_000,
      'redis-server',
    );
  });
  afterAll(async () => {
    durableRedis.kill('SIGTERM');
    await deleteKeys(prefix);
    await Promise.all([appliance.stop(), zendesk.stop(), servicenow.stop(), upscope.stop(), jira.stop()]);
  });

  const env = (extra: Record<string, string>) => ({
    RSB_REDIS_PREFIX: prefix,
    ...applianceEnv(appliance),
    ...zendeskEnv(zendesk),
    ...servicenowEnv(servicenow),
    ...upscopeEnv(upscope),
    ...jiraEnv(jira),
    ...extra,
  });

  /** A rules file whose write-back names these Zendesk and ServiceNow fields. */
  const rulesWriting = (zendeskField: string, servicenowField: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'rsb-doctor-')), 'rules.yaml');
    writeFileSync(
      file,
      `writeBack:\n  zendesk:\n    customFields: { "${zendeskField}": "{{ key.shortKey }}" }\n  servicenow:\n    fields: { ${servicenowField}: "{{ key.shortKey }}" }\n`,
    );
    return file;
  };

  const doctor = async (extra: Record<string, string>) => {
    const child = spawnTs('src/doctor.ts', env(extra));
    const { code } = await child.exited;
    return { code, out: child.stdout() };
  };

  it('passes every check against healthy, correctly configured systems (exit 0)', async () => {
    const { code, out } = await doctor({ REDIS_URL: durableUrl, RSB_RULES_FILE: rulesWriting('360000111', 'priority') });
    expect(out).toContain('✓ Zendesk ticket field 360000111');
    expect(out).toContain('✓ ServiceNow field priority');
    expect(out).toContain('✓ Redis AOF persistence');
    expect(out).toContain('✓ BeyondTrust support session reports');
    expect(out).toContain('✓ Zendesk credentials');
    expect(out).toContain('✓ ServiceNow table incident');
    expect(out).toContain('✓ Upscope REST API');
    expect(out).toContain('✓ Jira credentials');
    expect(out).toContain('All checks passed.');
    expect(code).toBe(0);
  });

  it('shows ✗ with the fix for an account without reporting permission, a non-durable Redis and a wrong key (exit 1)', async () => {
    const { code, out } = await doctor({
      REDIS_URL,
      BT_REALTIME_ENABLED: 'true',
      BT_CLIENT_ID: 'no-reports',
      BT_CLIENT_SECRET: 'no-reports-secret-0123',
      UPSCOPE_REST_KEY: 'wrong-rest-key-000',
      JIRA_API_TOKEN: 'wrong-jira-token-000',
      RSB_RULES_FILE: rulesWriting('360000999', 'u_remote_key'),
    });
    expect(out).toMatch(/✗ Jira credentials\s+jira: HTTP 401: You are not authenticated[^\n]*\n\s+fix: Check JIRA_BASE_URL/);
    expect(out).not.toContain('wrong-jira-token-000');
    expect(out).toMatch(/✗ Zendesk ticket field 360000999\s+not found\n\s+fix: The rules file writes ticket field 360000999/);
    expect(out).toMatch(/✗ ServiceNow field u_remote_key\s+not found\n\s+fix: The rules file writes incident\.u_remote_key/);
    expect(code).toBe(1);
    expect(out).toMatch(
      /✗ BeyondTrust support session reports\s+perm_reporting_support 0\n\s+fix: Check "Allow Access to Support Session Reports and Recordings"/,
    );
    expect(out).toContain('✓ BeyondTrust Command API');
    expect(out).toMatch(
      /✗ BeyondTrust real-time state\s+perm_real_time_state 0\n\s+fix: Allow the API account access to the Real-Time State API/,
    );
    expect(out).toMatch(/✗ Redis AOF persistence\s+appendonly no\n\s+fix: Set appendonly yes/);
    expect(out).toMatch(/✗ Upscope REST API\s+Upscope refused the REST key/);
    expect(out).not.toContain('wrong-rest-key-000');
  });
});
