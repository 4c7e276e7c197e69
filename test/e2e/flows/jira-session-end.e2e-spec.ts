import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noteMarker } from '../../../src/session-end/session-end.service';
import { SessionPoller } from '../../../src/session-end/poller.service';
import { LinkStore } from '../../../src/sessions/link.store';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeJira } from '../../fakes/jira/fake-jira';
import { FakeServiceNow } from '../../fakes/servicenow/fake-servicenow';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp, TEST_API_TOKEN } from '../../support/app';
import { until } from '../../support/child';
import { applianceEnv, jiraEnv, servicenowEnv, zendeskEnv } from '../../support/fake-env';
import { recordingSha256 } from '../../support/session-end';

const EVENTS_TOKEN = 'bt-events-token-0123456789';
const REC = { session: 150_000, showMyScreen: 60_000 };
const MAX_ATTACHMENT = 100_000;

describe('Session end → Jira issue: transcript, recordings, exactly once', () => {
  let appliance: FakeAppliance;
  let jira: FakeJira;
  let sut: RunningApp;

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    jira = await new FakeJira().start();
    sut = await startApp({
      ...applianceEnv(appliance),
      ...jiraEnv(jira),
      BT_EVENTS_TOKEN: EVENTS_TOKEN,
      BT_POLL_INTERVAL_SECONDS: '0',
      RSB_MAX_ATTACHMENT_BYTES: String(MAX_ATTACHMENT),
      RSB_AUTO_CREATE: 'jira',
      RSB_AUTO_CREATE_TRIGGER: 'walk-in',
      JIRA_SERVICE_DESK_ID: jira.serviceDeskId,
      JIRA_REQUEST_TYPE_ID: jira.requestTypeId,
    });
    appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN);
  });
  afterAll(async () => {
    await sut.close();
    await Promise.all([appliance.stop(), jira.stop()]);
  });

  const resync = (lsid: string) =>
    fetch(`${sut.url}/api/v1/sessions/${lsid}/resync`, { method: 'POST', headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });

  it('writes an internal note with the transcript attached, one attachment per recording (a large one linked), then nothing again', async () => {
    const issue = jira.createIssue('SD-77');
    await sut.app.get(LinkStore).record({
      system: 'jira',
      ticketId: 'SD-77',
      ticketNumber: 'SD-77',
      externalKey: 'SD-77',
      shortKey: '1234567',
      createdAt: new Date().toISOString(),
    });
    const s = appliance.startSession({ externalKey: 'SD-77' });
    appliance.chat(s.lsid, 'customer', 'VPN drops again');
    appliance.addRecording(s.lsid, 'session', REC.session);
    appliance.addRecording(s.lsid, 'showMyScreen', REC.showMyScreen);
    appliance.setSurvey(s.lsid, 'customer', { satisfaction: 'Very satisfied' });
    appliance.endSession(s.lsid);
    await until(async () => issue.comments.length >= 3, 20_000, 'the note and both recordings');

    const [note] = issue.comments;
    expect(issue.comments.every((c) => c.internal)).toBe(true);
    for (const text of ['Chat transcript:', 'VPN drops again', 'satisfaction: Very satisfied', noteMarker(s.lsid, 'note.1')])
      expect(note.text).toContain(text);
    const link = issue.comments.find((c) => c.text.includes('is not attached'))!;
    expect(link.text).toContain('larger than');
    expect(issue.attachments.map((a) => [a.filename, a.size, a.sha256]).sort()).toEqual(
      [
        [`session-${s.lsid}-showMyScreen-0.flv`, REC.showMyScreen, recordingSha256(s.lsid, 'ShowMyScreenRecording', 0, REC.showMyScreen)],
        [`session-${s.lsid}-transcript.txt`, expect.any(Number), expect.any(String)],
      ].sort(),
    );

    const comments = issue.comments.length;
    expect((await resync(s.lsid)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    expect(issue.comments).toHaveLength(comments);
    expect(issue.attachments).toHaveLength(2);
  });

  it('creates one request in the configured service desk for an unlinked session, and finds it again', async () => {
    const s = appliance.startSession({ externalKey: 'walk-in' });
    appliance.chat(s.lsid, 'customer', 'No ticket yet');
    appliance.endSession(s.lsid);
    const created = () => [...jira.issues.values()].find((i) => i.fields.labels.includes(`rs-bridge-${s.lsid}`));
    await until(async () => (created()?.comments.length ?? 0) >= 1, 15_000, 'the created request');
    const before = jira.issues.size;
    expect(created()!.comments[0].text).toContain('No ticket yet');
    expect((await resync(s.lsid)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1000));
    expect(jira.issues.size).toBe(before);
    expect(created()!.comments).toHaveLength(1);
  });
});

describe('Outcome rules: a session end moves the ticket on, once', () => {
  let appliance: FakeAppliance;
  let jira: FakeJira;
  let zendesk: FakeZendesk;
  let servicenow: FakeServiceNow;
  let sut: RunningApp;

  const RULES = `
outcomes:
  rules:
    - name: fixed
      match: { outcomes: [ended], minDurationSeconds: 60, repSurvey: { Resolved: [yes, "yes, permanently"] } }
      note: "Resolved in remote support session {{ session.lsid }} after {{ outcome.durationSeconds }} s"
      jira: { transition: Resolve, fields: { customfield_10042: "{{ session.lsid }}", customfield_10051: { value: "Fixed in {{ session.lsid }}" } } }
      zendesk: { status: solved, tags: [rs_solved] }
      servicenow: { state: "6", close_code: Solved (Permanently), close_notes: "Fixed by {{ session.reps[0].name }}" }
    - name: close-now
      match: { repSurvey: { resolved: close } }
      jira: { transition: Close }
  expiredKey:
    note: "Session key {{ key.shortKey }} expired at {{ key.expiresAt }} unused."
    jira: { transition: Waiting for customer }
`;

  beforeAll(async () => {
    [appliance, jira, zendesk, servicenow] = await Promise.all([
      new FakeAppliance().start(),
      new FakeJira().start(),
      new FakeZendesk().start(),
      new FakeServiceNow().start(),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'rsb-outcomes-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    sut = await startApp({
      ...applianceEnv(appliance),
      ...jiraEnv(jira),
      ...zendeskEnv(zendesk),
      ...servicenowEnv(servicenow),
      BT_POLL_INTERVAL_SECONDS: '0',
      RSB_RULES_FILE: join(dir, 'rules.yaml'),
    });
  });
  afterAll(async () => {
    await sut.close();
    await Promise.all([appliance.stop(), jira.stop(), zendesk.stop(), servicenow.stop()]);
  });

  const resync = (lsid: string) =>
    fetch(`${sut.url}/api/v1/sessions/${lsid}/resync`, { method: 'POST', headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
  const link = (system: string, ticketId: string, externalKey: string) =>
    sut.app
      .get(LinkStore)
      .record({ system, ticketId, ticketNumber: externalKey, externalKey, shortKey: '1234567', createdAt: new Date().toISOString() });
  /** A session of two minutes with a representative's exit survey, ended. */
  const session = (externalKey: string, resolved: string) => {
    const at = Math.floor(Date.now() / 1000) - 600;
    const s = appliance.startSession({ externalKey, startTime: at });
    appliance.joinRep(s.lsid, '2', at + 5);
    appliance.setSurvey(s.lsid, 'rep', { resolved });
    appliance.endSession(s.lsid, at + 120);
    return s;
  };

  it('Jira: the first matching rule transitions the issue and sets its field, with a note; a resync changes nothing', async () => {
    const issue = jira.createIssue('SD-201');
    await link('jira', 'SD-201', 'SD-201');
    const s = session('SD-201', 'Yes');
    expect((await resync(s.lsid)).status).toBe(202);
    await until(async () => issue.fields.status.name === 'Resolved', 15_000, 'the transition');
    expect(issue.fields.customfield_10042).toBe(s.lsid);
    expect(issue.fields.customfield_10051).toEqual({ value: `Fixed in ${s.lsid}` });
    const notes = issue.comments.filter((c) => c.text.includes('Resolved in remote support session'));
    expect(notes).toHaveLength(1);
    expect(notes[0].text).toContain('after 120 s');
    const transitions = () => jira.requests.filter((r) => r.method === 'POST' && r.path === '/rest/api/3/issue/SD-201/transitions');
    expect(transitions()).toHaveLength(1);
    const comments = issue.comments.length;
    expect((await resync(s.lsid)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    expect(transitions()).toHaveLength(1);
    expect(issue.comments).toHaveLength(comments);
  });

  it('Jira: a transition the workflow does not offer ends as an internal note saying why, once', async () => {
    const issue = jira.createIssue('SD-202');
    await link('jira', 'SD-202', 'SD-202');
    const s = session('SD-202', 'close');
    expect((await resync(s.lsid)).status).toBe(202);
    await until(async () => issue.comments.some((c) => c.text.includes('could not apply outcome rule')), 15_000, 'the refusal note');
    const refusal = issue.comments.find((c) => c.text.includes('could not apply outcome rule'))!;
    expect(refusal.internal).toBe(true);
    expect(refusal.text).toContain('"close-now"');
    expect(refusal.text).toContain('offers no transition "Close" now (available: Resolve (21), Waiting for customer (31))');
    expect(issue.fields.status.name).toBe('Waiting for support');
    expect((await resync(s.lsid)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    expect(issue.comments.filter((c) => c.text.includes('could not apply outcome rule'))).toHaveLength(1);
  });

  it('changes nothing when no rule matches', async () => {
    const issue = jira.createIssue('SD-203');
    await link('jira', 'SD-203', 'SD-203');
    const s = session('SD-203', 'no');
    expect((await resync(s.lsid)).status).toBe(202);
    await until(async () => issue.comments.length >= 1, 15_000, 'the session note');
    await new Promise((r) => setTimeout(r, 1000));
    expect(issue.fields.status.name).toBe('Waiting for support');
    expect(jira.requests.filter((r) => r.path.startsWith('/rest/api/3/issue/SD-203/transitions'))).toEqual([]);
  });

  it('a key that expired unused moves its issue on once; a key a session used does not', async () => {
    const unused = jira.createIssue('SD-301');
    const used = jira.createIssue('SD-302');
    const links = sut.app.get(LinkStore);
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    for (const [key, shortKey] of [
      ['SD-301', '3010301'],
      ['SD-302', '3020302'],
    ]) {
      const link = {
        system: 'jira',
        ticketId: key,
        ticketNumber: key,
        externalKey: key,
        shortKey,
        createdAt: minutesAgo(30),
        expiresAt: minutesAgo(5),
      };
      await links.record(link);
      await links.watchExpiry(link);
    }
    appliance.startSession({ externalKey: 'SD-302', startTime: Math.floor(Date.now() / 1000) - 20 * 60 });

    const poller = sut.app.get(SessionPoller);
    expect((await poller.poll()).expired).toEqual(['jira:SD-301']);
    expect(unused.fields.status.name).toBe('Waiting for customer');
    expect(unused.comments).toHaveLength(1);
    expect(unused.comments[0].internal).toBe(true);
    expect(unused.comments[0].text).toContain('Session key 3010301 expired at');
    expect(used.comments).toEqual([]);
    expect(used.fields.status.name).toBe('Waiting for support');
    expect((await poller.poll()).expired).toEqual([]);
    expect(unused.comments).toHaveLength(1);
  });

  it('Zendesk: status and tags; ServiceNow: state, close code and close notes', async () => {
    const ticket = zendesk.createTicket('777');
    await link('zendesk', '777', '777');
    const record = servicenow.createRecord('INC0077777');
    await link('servicenow', record.sys_id, 'INC0077777');
    const z = session('777', 'yes, permanently');
    const n = session('INC0077777', 'YES');
    await resync(z.lsid);
    await resync(n.lsid);
    await until(async () => ticket.status === 'solved' && record.fields.state === '6', 15_000, 'both tickets moved on');
    expect(ticket.tags).toContain('rs_solved');
    expect(record.fields).toMatchObject({ state: '6', close_code: 'Solved (Permanently)', close_notes: 'Fixed by Bob Tech' });
  });
});
