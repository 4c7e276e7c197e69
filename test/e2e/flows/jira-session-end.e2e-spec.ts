import { createHash } from 'node:crypto';
import { noteMarker } from '../../../src/session-end/session-end.service';
import { LinkStore } from '../../../src/sessions/link.store';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeJira } from '../../fakes/jira/fake-jira';
import { RunningApp, startApp, TEST_API_TOKEN } from '../../support/app';
import { until } from '../../support/child';
import { applianceEnv, jiraEnv } from '../../support/fake-env';

const EVENTS_TOKEN = 'bt-events-token-0123456789';
const REC = { session: 150_000, showMyScreen: 60_000 };
const MAX_ATTACHMENT = 100_000;

const sha256Of = (lsid: string, report: string, size: number) =>
  createHash('sha256')
    .update(FakeAppliance.recordingBytes(lsid, report, 0, 0, size))
    .digest('hex');

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
        [`session-${s.lsid}-showMyScreen-0.flv`, REC.showMyScreen, sha256Of(s.lsid, 'ShowMyScreenRecording', REC.showMyScreen)],
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
