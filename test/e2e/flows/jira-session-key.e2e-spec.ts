import { Queue } from 'bullmq';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUEUES } from '../../../src/jobs/queues';
import { LinkStore } from '../../../src/sessions/link.store';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeJira, FakeJiraIssue } from '../../fakes/jira/fake-jira';
import { RunningApp, startApp } from '../../support/app';
import { until } from '../../support/child';
import { applianceEnv, jiraEnv } from '../../support/fake-env';
import { json } from '../../support/http';
import { REDIS_URL } from '../../support/redis';

const RULES = `
routing:
  default: general
  rules:
    - match: { system: jira, groups: [SD], priorities: [high] }
      queue: team:1
fields:
  ticket_id: "{{ ticket.number }}"
  custom_field1: "{{ ticket.fields.customfield_10050 }}"
triggers:
  jiraLabels: { remote_support: session.requested, needs_help: session.requested }
writeBack:
  jira:
    fields:
      customfield_10042: "{{ key.shortKey }}"
      customfield_10051: { value: 'Remote "{{ ticket.number }}"', child: { value: "{{ ticket.subject }}" } }
      customfield_10052: [{ value: Hardware }, { id: "10071" }, { value: "{{ ticket.subject }}" }]
    labels: [rs_key_sent]
outcomes:
  expiredKey: { note: "Key {{ key.shortKey }} expired unused." }
`;

describe('Jira issue → BeyondTrust session key', () => {
  let appliance: FakeAppliance;
  let jira: FakeJira;
  let sut: RunningApp;
  let queue: Queue;
  let hook: string;

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    jira = await new FakeJira().start();
    const dir = mkdtempSync(join(tmpdir(), 'rsb-jira-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    sut = await startApp({ ...applianceEnv(appliance), ...jiraEnv(jira), RSB_RULES_FILE: join(dir, 'rules.yaml') });
    queue = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    hook = `${sut.url}/webhooks/jira`;
  });
  afterAll(async () => {
    await queue.close();
    await sut.close();
    await jira.stop();
    await appliance.stop();
  });

  const keyRequests = (key: string) =>
    appliance.requests.filter((r) => r.params.action === 'generate_session_key' && r.params['session.custom.ticket_id'] === key);
  const jobCount = async () => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
  const labelled = (key: string, label = 'remote_support', fields: Record<string, unknown> = {}): FakeJiraIssue => {
    const issue = jira.createIssue(key, { customfield_10050: { id: '3', value: 'VPN client' }, ...fields });
    issue.fields.labels.push(label);
    return issue;
  };

  it('creates the key for the routed queue; a public reply, an internal note, the field and the label land on the issue', async () => {
    // A summary with quotes and a line break: rendered into a JSON-shaped field, it must stay one string.
    const summary = 'Printer says "PC LOAD LETTER"\nagain';
    const issue = labelled('SD-1', 'remote_support', { summary });
    const res = await jira.sendWebhook(hook, jira.webhookBody(issue, { addedLabel: 'remote_support' }));
    expect(res.status).toBe(202);
    await until(async () => issue.comments.length === 2, 15_000, 'the reply and the note');
    expect(keyRequests('SD-1')[0].params).toMatchObject({
      queue_id: 'team:1',
      'session.custom.external_key': 'SD-1',
      'session.custom.custom_field1': 'VPN client',
      'session.priority': '1',
    });
    const shortKey = [...appliance.keys.values()].find((k) => k.externalKey === 'SD-1')!.shortKey;
    const [reply, note] = issue.comments;
    expect(reply.internal).toBe(false);
    expect(reply.text).toContain(`enter the code ${shortKey}`);
    expect(note.internal).toBe(true);
    expect(note.text).toContain(`Remote support session key ${shortKey} created for queue team:1`);
    expect(issue.fields.customfield_10042).toBe(shortKey);
    // Select lists take the JSON shape Jira documents (a cascading select nests its child), each string in
    // it rendered on its own, at any depth.
    expect(issue.fields.customfield_10051).toEqual({ value: 'Remote "SD-1"', child: { value: summary } });
    expect(issue.fields.customfield_10052).toEqual([{ value: 'Hardware' }, { id: '10071' }, { value: summary }]);
    expect(issue.fields.labels).toEqual(['remote_support', 'rs_key_sent']);
    // outcomes.expiredKey is set: the key is watched until it expires (a day, the fake's default).
    const watched = await sut.app.get(LinkStore).expired(Date.now() + 2 * 24 * 3600 * 1000);
    expect(watched.map((w) => [w.link.ticketId, w.link.shortKey])).toContainEqual(['SD-1', shortKey]);
    expect(await sut.app.get(LinkStore).expired()).toEqual([]);
  });

  it('asks for a session when an issue is created with the label, and through an Automation rule with the secret header', async () => {
    const created = labelled('SD-2', 'needs_help');
    expect((await jira.sendWebhook(hook, jira.webhookBody(created, { event: 'jira:issue_created' }))).status).toBe(202);
    const automated = labelled('SD-3');
    expect((await jira.sendAutomation(hook, automated)).status).toBe(202);
    await until(async () => created.comments.length === 2 && automated.comments.length === 2, 15_000, 'both issues written');
  });

  it('ignores (200, nothing queued) an update that added no mapped label, and events other than issue changes', async () => {
    const before = await jobCount();
    const issue = jira.createIssue('SD-4', { labels: ['remote_support'] });
    issue.fields.labels.push('unrelated');
    // remote_support was there before: this change added only "unrelated".
    const res = await jira.sendWebhook(hook, jira.webhookBody(issue, { addedLabel: 'unrelated' }));
    expect(res.status).toBe(200);
    expect((await json(res)).ignored).toContain('no label mapped in triggers.jiraLabels');
    const deleted = await jira.sendWebhook(hook, jira.webhookBody(issue, { event: 'jira:issue_deleted' }));
    expect(deleted.status).toBe(200);
    expect(await jobCount()).toBe(before);
  });

  it('does nothing twice: a retry under the same identifier, the captured body under a fresh identifier', async () => {
    const issue = labelled('SD-5');
    const body = JSON.stringify(jira.webhookBody(issue, { addedLabel: 'remote_support' }));
    const send = (identifier: string) => {
      const request = jira.signedRequest(body, identifier);
      return fetch(hook, { method: 'POST', headers: request.headers, body: request.body }).then(json);
    };
    const first = await send('delivery-5');
    await until(async () => issue.comments.length === 2, 15_000, 'the first delivery');
    expect((await send('delivery-5')).jobId).toBe(first.jobId);
    expect((await send('a-fresh-identifier')).jobId).toBe(first.jobId);
    await new Promise((r) => setTimeout(r, 400));
    expect(issue.comments).toHaveLength(2);
    expect(keyRequests('SD-5')).toHaveLength(1);
  });

  it('waits out a 429 with Retry-After and writes once', async () => {
    const issue = labelled('SD-6');
    jira.failNext(1, 429, '1');
    await jira.sendWebhook(hook, jira.webhookBody(issue, { addedLabel: 'remote_support' }));
    await until(async () => issue.comments.length === 2, 20_000, 'the comments after the 429');
    await new Promise((r) => setTimeout(r, 300));
    expect(issue.comments).toHaveLength(2);
    expect(jira.requests.some((r) => r.status === 429)).toBe(true);
  });

  it("gives up the write-back with Jira's own message when the issue does not exist (no endless retries)", async () => {
    const ghost = {
      id: '1',
      key: 'SD-404',
      fields: { labels: ['remote_support'], status: { name: 'Open' } },
      comments: [],
      attachments: [],
    };
    const res = await json(await jira.sendWebhook(hook, jira.webhookBody(ghost, { addedLabel: 'remote_support' })));
    // The key is made and the event done; its write-back is what fails, for good.
    await until(async () => (await queue.getJobState(res.jobId)) === 'completed', 15_000, 'the key');
    const writes = new Queue(QUEUES.ticketWrites, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    try {
      const writeId = `write-${res.jobId}`;
      await until(async () => (await writes.getJobState(writeId)) === 'failed', 15_000, 'the write-back to fail');
      expect((await writes.getJob(writeId))!.failedReason).toContain('jira: HTTP 404: Issue does not exist');
      expect((await writes.getJob(writeId))!.attemptsMade).toBe(1);
    } finally {
      await writes.close();
    }
  });

  describe('bad requests get a 4xx and enqueue nothing', () => {
    const send = (headers: Record<string, string>, body: string) =>
      fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const body = () =>
      JSON.stringify(jira.webhookBody(labelled(`SD-${Math.floor(Math.random() * 1e6)}`), { addedLabel: 'remote_support' }));

    it.each([
      ['no authentication', () => ({}), 401, 'unauthenticated'],
      [
        'a signature made with another secret',
        (b: string) => jira.signedRequest(b, 'x', 'another-secret-0123456789').headers,
        401,
        'invalid_signature',
      ],
      ['a signature that is not sha256=<hex>', () => ({ 'x-hub-signature': 'sha1=abcdef' }), 401, 'invalid_signature'],
      ['a wrong automation secret', () => ({ 'x-rsb-webhook-secret': 'nope' }), 401, 'invalid_secret'],
    ] as const)('%s', async (_name, headers, status, code) => {
      const before = await jobCount();
      const b = body();
      const res = await send(headers(b), b);
      expect(res.status).toBe(status);
      expect((await json(res)).error.code).toBe(code);
      expect(await jobCount()).toBe(before);
    });

    it('a body without an issue key, and a signed body older than a week', async () => {
      const before = await jobCount();
      const noKey = JSON.stringify({ webhookEvent: 'jira:issue_created', issue: { fields: { labels: ['remote_support'] } } });
      const res = await send(jira.signedRequest(noKey).headers, noKey);
      expect(res.status).toBe(400);
      expect(JSON.stringify(await json(res))).toContain('issue.key must be an issue key');
      const old = JSON.stringify(
        jira.webhookBody(labelled('SD-7'), { event: 'jira:issue_created', timestamp: Date.now() - 8 * 24 * 3600 * 1000 }),
      );
      const stale = await send(jira.signedRequest(old).headers, old);
      expect(stale.status).toBe(401);
      expect((await json(stale)).error.code).toBe('stale_timestamp');
      expect(await jobCount()).toBe(before);
    });
  });

  it('answers 404 when Jira is not configured', async () => {
    const bare = await startApp(applianceEnv(appliance));
    try {
      const res = await fetch(`${bare.url}/webhooks/jira`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(404);
    } finally {
      await bare.close();
    }
  });

  it('authenticates with an OAuth token instead of an API token, and takes the previous webhook secret during a rotation', async () => {
    const oauth = await startApp({
      ...applianceEnv(appliance),
      JIRA_BASE_URL: jira.url,
      JIRA_OAUTH_TOKEN: jira.oauthToken,
      // Mid-rotation: Jira still signs with the old secret.
      JIRA_WEBHOOK_SECRET: 'the-new-jira-secret-0123456789',
      JIRA_WEBHOOK_SECRET_PREVIOUS: jira.webhookSecret,
    });
    try {
      const issue = jira.createIssue('OPS-1', { labels: ['remote_support'] });
      const res = await jira.sendWebhook(`${oauth.url}/webhooks/jira`, jira.webhookBody(issue, { event: 'jira:issue_created' }));
      expect(res.status).toBe(202);
      await until(async () => issue.comments.length === 2, 15_000, 'the comments over OAuth');
    } finally {
      await oauth.close();
    }
  });
});
