import { Queue } from 'bullmq';
import { QUEUES } from '../../../src/jobs/queues';
import { noteMarker } from '../../../src/session-end/session-end.service';
import { ArtifactStore, KEY_NOTE_STEP, keyNoteScope } from '../../../src/session-end/session-stores';
import { LinkStore } from '../../../src/sessions/link.store';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp } from '../../support/app';
import { until } from '../../support/child';
import { FakeBridge, startFakeBridge } from '../../support/fake-bridge';
import { recordingSha256, sessionJobsSettled } from '../../support/session-end';

const MAX_ATTACHMENT = 200_000;
/** Events are taken from loopback only (the fake appliance), with loopback a trusted proxy. */
const LOOPBACK_EVENTS = { BT_EVENTS_ALLOWED_IPS: '127.0.0.1,::1', RSB_TRUST_PROXY: 'loopback' };

/**
 * Issue 23: on Zendesk a session end is ONE ticket update: the transcript note carries the transcript and
 * every recording under the cap (several upload tokens on one comment), counted at the fake's Update
 * Ticket endpoint. What cannot ride (over the cap, a refused download) is named in the note.
 */
describe('Session end → Zendesk: one update carries the note, the transcript and the recordings', () => {
  let bridge: FakeBridge;
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let pulls: Queue;
  let recordings: Queue;

  beforeAll(async () => {
    bridge = await startFakeBridge({
      ...LOOPBACK_EVENTS,
      RSB_MAX_ATTACHMENT_BYTES: String(MAX_ATTACHMENT),
      RSB_TICKET_TIMEOUT_MS: '1500',
    });
    ({ appliance, zendesk, sut } = bridge);
    pulls = bridge.queue(QUEUES.sessionEnd);
    recordings = bridge.queue(QUEUES.recordings);
  });
  afterAll(() => bridge?.stop());

  /** Update Ticket calls Zendesk applied to this ticket. */
  const updates = (ticketId: string) =>
    zendesk.requests.filter((r) => r.method === 'PUT' && r.path === `/api/v2/tickets/${ticketId}.json` && r.status === 200);
  const uploads = (lsid: string) => zendesk.requests.filter((r) => r.method === 'POST' && r.path.includes(`session-${lsid}-`));

  const settled = (lsid: string) => sessionJobsSettled(lsid, pulls, recordings);

  function session(externalKey: string, recs: { session?: number; showMyScreen?: number[] }) {
    const s = appliance.startSession({ externalKey });
    appliance.joinRep(s.lsid, '2');
    appliance.chat(s.lsid, 'customer', 'The printer prints only blank pages');
    appliance.chat(s.lsid, { repId: '2' }, 'Cleaning the heads now');
    if (recs.session !== undefined) appliance.addRecording(s.lsid, 'session', recs.session);
    for (const size of recs.showMyScreen ?? []) appliance.addRecording(s.lsid, 'showMyScreen', size);
    appliance.endSession(s.lsid);
    return s;
  }

  it('chat and one recording under the cap: exactly one ticket update, carrying the transcript and the recording', async () => {
    const ticket = zendesk.createTicket('6101');
    const s = session('6101', { session: 120_000 });
    await until(async () => ticket.comments.length >= 1, 20_000, 'the note');
    await settled(s.lsid);
    await new Promise((r) => setTimeout(r, 500));

    expect(updates('6101')).toHaveLength(1);
    expect(ticket.comments).toHaveLength(1);
    const [note] = ticket.comments;
    expect(note.public).toBe(false);
    expect(note.body).toContain('The printer prints only blank pages');
    expect(note.body).toContain(`Session recording attached: session-${s.lsid}-session-0.flv`);
    // The template's "added separately" line is gone: the recording is right here.
    expect(note.body).not.toContain('added separately');
    expect(note.attachments.map((a) => a.filename).sort()).toEqual([
      `session-${s.lsid}-session-0.flv`,
      `session-${s.lsid}-transcript.html`,
    ]);
    const rec = note.attachments.find((a) => a.filename.endsWith('.flv'))!;
    expect([rec.size, rec.sha256]).toEqual([120_000, recordingSha256(s.lsid, 'SupportSessionRecording', 0, 120_000)]);
    // No transfer job: the recording rode on the note, and the sessions view says it is attached.
    expect(
      (await recordings.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).filter((j) => j.data.lsid === s.lsid),
    ).toEqual([]);
    const done = await sut.app.get(ArtifactStore).done(s.lsid);
    expect(JSON.parse(done['recording:session:0'])).toMatchObject({ onNote: true, attached: [`session-${s.lsid}-session-0.flv`] });
    expect(uploads(s.lsid)).toHaveLength(2);
  });

  it('two recordings: one update with both tokens beside the transcript', async () => {
    const ticket = zendesk.createTicket('6102');
    const s = session('6102', { session: 90_000, showMyScreen: [40_000] });
    await until(async () => ticket.comments.length >= 1, 20_000, 'the note');
    await settled(s.lsid);
    await new Promise((r) => setTimeout(r, 500));

    expect(updates('6102')).toHaveLength(1);
    expect(ticket.comments).toHaveLength(1);
    const put = updates('6102')[0].body as { ticket: { comment: { uploads: string[] } } };
    expect(put.ticket.comment.uploads).toHaveLength(3);
    expect(ticket.comments[0].attachments.map((a) => [a.filename, a.size, a.sha256]).sort()).toEqual(
      [
        [`session-${s.lsid}-session-0.flv`, 90_000, recordingSha256(s.lsid, 'SupportSessionRecording', 0, 90_000)],
        [`session-${s.lsid}-showMyScreen-0.flv`, 40_000, recordingSha256(s.lsid, 'ShowMyScreenRecording', 0, 40_000)],
        [`session-${s.lsid}-transcript.html`, expect.any(Number), expect.any(String)],
      ].sort(),
    );
  });

  it('a recording over the cap is linked from the note, with its size and the reason, in the same update', async () => {
    const ticket = zendesk.createTicket('6103');
    const s = session('6103', { session: 50_000, showMyScreen: [MAX_ATTACHMENT + 1] });
    await until(async () => ticket.comments.length >= 1, 20_000, 'the note');
    await settled(s.lsid);
    await new Promise((r) => setTimeout(r, 500));

    expect(updates('6103')).toHaveLength(1);
    const [note] = ticket.comments;
    expect(note.attachments.map((a) => a.filename).sort()).toEqual([
      `session-${s.lsid}-session-0.flv`,
      `session-${s.lsid}-transcript.html`,
    ]);
    expect(note.body).toContain(
      `The Show My Screen recording 1 of remote support session ${s.lsid} (0.2 MiB) is not attached: it is larger than the 0.2 MiB attachment limit (RSB_MAX_ATTACHMENT_BYTES).`,
    );
    expect(note.body).toMatch(/View it on the appliance: http/);
    // Only the one under the cap went up to Zendesk.
    expect(uploads(s.lsid).filter((u) => u.path.includes('showMyScreen'))).toEqual([]);
    const done = await sut.app.get(ArtifactStore).done(s.lsid);
    expect(JSON.parse(done['recording:showMyScreen:0'])).toMatchObject({ onNote: true, linked: expect.stringContaining('larger than') });
  });

  it('a refused download: the note still lands, naming the recording and why; the recording follows in its own note', async () => {
    const ticket = zendesk.createTicket('6104');
    appliance.refuseRecordingDownloads = 1;
    const s = session('6104', { session: 60_000 });
    await until(async () => ticket.comments.length >= 2, 20_000, 'the note, then the recording on its own');
    await settled(s.lsid);

    const [note, later] = ticket.comments;
    expect(note.body).toContain('The printer prints only blank pages');
    expect(note.body).toContain(
      `The session recording of remote support session ${s.lsid} (size unknown) is not attached: its transfer failed (`,
    );
    expect(note.body).toContain('Recording not found');
    expect(note.body).toContain('rs-bridge retries it and adds it in its own note');
    expect(note.attachments.map((a) => a.filename)).toEqual([`session-${s.lsid}-transcript.html`]);
    // The transfer job retried the download, which the appliance served this time.
    expect(later.attachments.map((a) => [a.filename, a.size])).toEqual([[`session-${s.lsid}-session-0.flv`, 60_000]]);
    expect(updates('6104')).toHaveLength(2);
  });

  it('a note refused after the uploads: the retry reuses every token (no second download or upload) and writes once', async () => {
    const ticket = zendesk.createTicket('6105');
    // The transcript's upload is the last one before the note: the call after it (the note) gets a 503.
    zendesk.onUploadStart = (filename) => {
      if (!filename.endsWith('-transcript.html')) return;
      zendesk.onUploadStart = undefined;
      zendesk.failNext(1, 503);
    };
    const recordingRequests = () => appliance.requests.filter((r) => r.params.generate_report === 'SupportSessionRecording').length;
    const before = recordingRequests();
    const s = session('6105', { session: 70_000 });
    await until(async () => ticket.comments.length >= 1, 30_000, 'the note, on the retry');
    await settled(s.lsid);
    await new Promise((r) => setTimeout(r, 500));

    expect(zendesk.requests.filter((r) => r.method === 'PUT' && r.path === '/api/v2/tickets/6105.json' && r.status === 503)).toHaveLength(
      1,
    );
    expect(updates('6105')).toHaveLength(1);
    expect(ticket.comments).toHaveLength(1);
    expect(ticket.comments[0].attachments).toHaveLength(2);
    expect(uploads(s.lsid)).toHaveLength(2);
    expect(recordingRequests() - before).toBe(1);
  });

  it('a note that landed but whose answer never came: the retry finds it, and nothing is uploaded or written twice', async () => {
    const ticket = zendesk.createTicket('6106');
    zendesk.holdNext(1, 'PUT', /^\/api\/v2\/tickets\/6106\.json/);
    const s = session('6106', { session: 30_000, showMyScreen: [20_000] });
    await until(async () => zendesk.held.length === 1, 20_000, 'Zendesk to take the note and hold its answer');
    await settled(s.lsid);
    zendesk.releaseHeld();
    await new Promise((r) => setTimeout(r, 500));

    expect(ticket.comments).toHaveLength(1);
    expect(ticket.comments[0].body).toContain(noteMarker(s.lsid, 'note.1'));
    expect(ticket.comments[0].attachments).toHaveLength(3);
    expect(uploads(s.lsid)).toHaveLength(3);
    const pull = await pulls.getJob(`pull-${s.lsid}`);
    expect(pull!.attemptsMade).toBeGreaterThanOrEqual(1);
    expect(
      (await recordings.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).filter((j) => j.data.lsid === s.lsid),
    ).toEqual([]);
  });

  it("the key's internal note begins the first session's note for that key, and only the first", async () => {
    const ticket = zendesk.createTicket('6107');
    const keyNote = 'Session key 7654321 for this ticket: https://support.example.com/k/7654321\nValid for 24 hours.';
    await sut.app.get(LinkStore).record({
      system: 'zendesk',
      ticketId: '6107',
      ticketNumber: '6107',
      externalKey: 'ZD-6107',
      shortKey: '7654321',
      createdAt: new Date().toISOString(),
      keyNote,
    });
    const first = session('ZD-6107', { session: 10_000 });
    await until(async () => ticket.comments.length >= 1, 20_000, 'the first note');
    await settled(first.lsid);
    const second = session('ZD-6107', {});
    await until(async () => ticket.comments.length >= 2, 20_000, 'the second note');
    await settled(second.lsid);

    expect(updates('6107')).toHaveLength(2);
    const [one, two] = ticket.comments;
    expect(
      one.body.startsWith(
        '<p>Session key 7654321 for this ticket: https://support.example.com/k/7654321</p>\n<p>Valid for 24 hours.</p>\n',
      ),
    ).toBe(true);
    expect(one.attachments).toHaveLength(2);
    expect(two.body).not.toContain('Session key 7654321');
    // The ledger the key's expiry path reads: claimed by the first session.
    const ledger = sut.app.get(ArtifactStore).ledger(keyNoteScope('zendesk', '6107', '7654321'));
    expect(await ledger.isDone(KEY_NOTE_STEP)).toBe(true);
    const claim = await sut.app.get(ArtifactStore).done(keyNoteScope('zendesk', '6107', '7654321'));
    expect(JSON.parse(claim[KEY_NOTE_STEP])).toMatchObject({ lsid: first.lsid });
  });
});

describe('Session end → Zendesk: the note waits for its recordings no longer than RSB_NOTE_RECORDINGS_WAIT_SECONDS', () => {
  let bridge: FakeBridge;
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;

  beforeAll(async () => {
    bridge = await startFakeBridge({ ...LOOPBACK_EVENTS, RSB_NOTE_RECORDINGS_WAIT_SECONDS: '1' });
    ({ appliance, zendesk } = bridge);
  });
  afterAll(() => bridge?.stop());

  it('a slow recording: the note lands on time naming it, and the recording follows in its own note', async () => {
    const ticket = zendesk.createTicket('6201');
    // 100 kB at 25 kB/s: four seconds, past the one-second wait.
    appliance.recordingBytesPerSecond = 25_000;
    const s = appliance.startSession({ externalKey: '6201' });
    appliance.chat(s.lsid, 'customer', 'Slow line today');
    appliance.addRecording(s.lsid, 'session', 100_000);
    const ended = Date.now();
    appliance.endSession(s.lsid);
    await until(async () => ticket.comments.length >= 1, 15_000, 'the note');
    const noteAfter = Date.now() - ended;
    const [note] = ticket.comments;
    expect(note.body).toContain('Slow line today');
    expect(note.body).toContain(
      'is not attached: it was not transferred within 1 s (RSB_NOTE_RECORDINGS_WAIT_SECONDS); rs-bridge keeps transferring it and adds it in its own note',
    );
    expect(note.attachments.map((a) => a.filename)).toEqual([`session-${s.lsid}-transcript.html`]);
    expect(noteAfter).toBeLessThan(4_000);

    await until(async () => ticket.comments.length >= 2, 20_000, 'the recording in its own note');
    expect(ticket.comments[1].attachments.map((a) => [a.filename, a.size, a.sha256])).toEqual([
      [`session-${s.lsid}-session-0.flv`, 100_000, recordingSha256(s.lsid, 'SupportSessionRecording', 0, 100_000)],
    ]);
    appliance.recordingBytesPerSecond = 0;
  });
});
