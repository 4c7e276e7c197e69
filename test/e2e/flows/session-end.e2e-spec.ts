import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { QUEUES } from '../../../src/jobs/queues';
import { SessionPoller } from '../../../src/session-end/poller.service';
import { noteMarker } from '../../../src/session-end/session-end.service';
import { ArtifactStore } from '../../../src/session-end/session-stores';
import { LinkStore } from '../../../src/sessions/link.store';
import { TicketsService } from '../../../src/tickets/tickets.service';
import { FakeAppliance, FakeSession } from '../../fakes/beyondtrust/fake-appliance';
import { FakeServiceNow } from '../../fakes/servicenow/fake-servicenow';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { FakeBridge, startFakeBridge } from '../../support/fake-bridge';
import { RunningApp, startApp, TEST_API_TOKEN } from '../../support/app';
import { until } from '../../support/child';
import { REDIS_URL } from '../../support/redis';
import { recordingSha256, sessionJobsSettled } from '../../support/session-end';
import { applianceEnv, servicenowEnv, zendeskEnv } from '../../support/fake-env';

const EVENTS_TOKEN = 'bt-events-token-0123456789';
const REC = { session: 150_000, showMyScreen: 60_000, commandShell: 30_000 };
const MAX_ATTACHMENT = 200_000;

describe('Session end → ticket: transcript, recordings and surveys, exactly once', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let servicenow: FakeServiceNow;
  let sut: RunningApp;
  let pulls: Queue;
  let recordings: Queue;
  let at: number;

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    servicenow = await new FakeServiceNow().start();
    sut = await startApp({
      ...applianceEnv(appliance),
      BT_EVENTS_TOKEN: EVENTS_TOKEN,
      BT_EVENTS_ALLOWED_IPS: '127.0.0.1,::1',
      // The test plays a proxy on loopback, whose X-Forwarded-For says where an event came from.
      RSB_TRUST_PROXY: 'loopback',
      BT_POLL_INTERVAL_SECONDS: '0',
      ...zendeskEnv(zendesk),
      SERVICENOW_WEBHOOK_SECRET: servicenow.webhookSecret,
      SERVICENOW_INSTANCE_URL: servicenow.url,
      SERVICENOW_USERNAME: servicenow.username,
      SERVICENOW_PASSWORD: servicenow.password,
      RSB_MAX_ATTACHMENT_BYTES: String(MAX_ATTACHMENT),
    });
    appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN);
    pulls = new Queue(QUEUES.sessionEnd, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    recordings = new Queue(QUEUES.recordings, { connection: { url: REDIS_URL }, prefix: sut.prefix });
    at = Math.floor(Date.now() / 1000) - 600;
  });
  afterAll(async () => {
    await pulls.close();
    await recordings.close();
    await sut.close();
    await Promise.all([appliance.stop(), zendesk.stop(), servicenow.stop()]);
  });

  const link = (system: string, ticketId: string, ticketNumber: string, externalKey: string) =>
    sut.app
      .get(LinkStore)
      .record({ system, ticketId, ticketNumber, externalKey, shortKey: '1234567', createdAt: new Date().toISOString() });

  /** A session with everything a transcript can hold, ended (which sends support_conference_end). */
  function richSession(externalKey: string, recordingSizes = REC, end = true): FakeSession {
    const s = appliance.startSession({ externalKey, custom: { ticket_id: externalKey }, startTime: at });
    appliance.joinRep(s.lsid, '2', at + 5);
    appliance.chat(s.lsid, 'customer', 'My printer is on fire <b>help</b>', at + 10);
    appliance.chat(s.lsid, { repId: '2' }, 'On it, pushing a fix', at + 20);
    appliance.chat(s.lsid, 'system', 'Screen sharing started', at + 25);
    appliance.addEvent(s.lsid, {
      type: 'File Upload',
      timestamp: at + 30,
      performedBy: { gsnumber: '12', type: 'representative', name: 'Bob Tech' },
      filename: 'fix-printer.ps1',
      filesize: 2048,
    });
    appliance.addEvent(s.lsid, {
      type: 'Session Note Added',
      timestamp: at + 40,
      performedBy: { gsnumber: '12', type: 'representative', name: 'Bob Tech' },
      body: 'Replaced the toner cartridge',
    });
    appliance.addEvent(s.lsid, {
      type: 'System Information Retrieved',
      timestamp: at + 6,
      systemInformation: [{ name: 'Operating System', fields: ['Name', 'Version'], rows: [['Windows 11 Pro', '23H2']] }],
    });
    appliance.addRecording(s.lsid, 'session', recordingSizes.session);
    appliance.addRecording(s.lsid, 'showMyScreen', recordingSizes.showMyScreen);
    appliance.addRecording(s.lsid, 'commandShell', recordingSizes.commandShell);
    appliance.setSurvey(s.lsid, 'customer', { satisfaction: 'Very satisfied' });
    appliance.setSurvey(s.lsid, 'rep', { root_cause: 'Toner' });
    if (end) appliance.endSession(s.lsid, at + 60);
    return s;
  }

  const settled = (lsid: string) => sessionJobsSettled(lsid, pulls, recordings);

  it('writes a Zendesk note with the transcript and every recording on it (one update), every file byte for byte', async () => {
    zendesk.createTicket('501');
    await link('zendesk', '501', '501', 'ZD-501');
    const s = richSession('ZD-501');
    const ticket = zendesk.tickets.get('501')!;
    await until(async () => ticket.comments.length >= 1, 20_000, 'the note with the three recordings');
    await settled(s.lsid);

    // Issue 23: the recordings ride on the note's comment (three upload tokens beside the transcript's).
    expect(ticket.comments).toHaveLength(1);
    expect(zendesk.requests.filter((r) => r.method === 'PUT' && r.path === '/api/v2/tickets/501.json')).toHaveLength(1);
    const [note] = ticket.comments;
    expect(note.public).toBe(false);
    expect(note.html).toBe(true);
    for (const text of [
      'Casey Customer',
      'Bob Tech',
      'My printer is on fire &lt;b&gt;help&lt;/b&gt;',
      '<em>[',
      'Screen sharing started',
      'fix-printer.ps1',
      'Replaced the toner cartridge',
      'Operating System: Name: Windows 11 Pro, Version: 23H2',
      'satisfaction: Very satisfied',
      'root cause: Toner',
      'ticket id=ZD-501',
      `Session recording attached: session-${s.lsid}-session-0.flv (0.1 MiB).`,
      `Show My Screen recording 1 attached: session-${s.lsid}-showMyScreen-0.flv`,
      `Command shell recording 1 attached: session-${s.lsid}-commandShell-0.flv`,
      noteMarker(s.lsid, 'note.1'),
    ])
      expect(note.body).toContain(text);
    expect(note.body).not.toContain('<b>help</b>');
    expect(note.attachments.filter((a) => a.filename.endsWith('-transcript.html')).map((a) => [a.filename, a.contentType])).toEqual([
      [`session-${s.lsid}-transcript.html`, 'text/html; charset=utf-8'],
    ]);

    const files = note.attachments.filter((a) => a.filename.endsWith('.flv')).sort((a, b) => a.filename.localeCompare(b.filename));
    expect(files.map((f) => [f.filename, f.size, f.sha256])).toEqual([
      [`session-${s.lsid}-commandShell-0.flv`, REC.commandShell, recordingSha256(s.lsid, 'CommandShellRecording', 0, REC.commandShell)],
      [`session-${s.lsid}-session-0.flv`, REC.session, recordingSha256(s.lsid, 'SupportSessionRecording', 0, REC.session)],
      [`session-${s.lsid}-showMyScreen-0.flv`, REC.showMyScreen, recordingSha256(s.lsid, 'ShowMyScreenRecording', 0, REC.showMyScreen)],
    ]);
  });

  it('writes nothing twice: the event redelivered, the poll, a resync and a crash after a write landed', async () => {
    zendesk.createTicket('502');
    await link('zendesk', '502', '502', 'ZD-502');
    const s = richSession('ZD-502');
    const ticket = zendesk.tickets.get('502')!;
    await until(async () => ticket.comments.length >= 1, 20_000, 'the first pull');
    await settled(s.lsid);

    // The appliance sends the end event again (it never got our 200, say).
    appliance.emitOutboundRaw({
      event: 'support_conference_end',
      version: '3',
      timestamp: String(at + 60),
      lsid: s.lsid,
      external_key: 'ZD-502',
    });
    await appliance.outboundDrained();
    // The poll sees the same session in its window.
    const polled = await sut.app.get(SessionPoller).poll(at + 120);
    expect(polled.enqueued).toContain(`pull-${s.lsid}`);
    // An operator asks for a resync.
    const resync = await fetch(`${sut.url}/api/v1/sessions/${s.lsid}/resync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(resync.status).toBe(202);
    const { jobId } = (await resync.json()) as { jobId: string };
    await until(async () => (await pulls.getJobState(jobId)) === 'completed', 15_000, 'the resync');
    expect((await pulls.getJob(jobId))!.returnvalue).toMatchObject({ written: [], ticket: { id: '502' } });
    expect(ticket.comments).toHaveLength(1);
    expect(ticket.comments[0].attachments).toHaveLength(4);

    // A worker died after Zendesk took the survey note but before it was recorded: the retry finds it.
    const artifacts = sut.app.get(ArtifactStore);
    const writer = sut.app.get(TicketsService).zendesk!;
    const late = appliance.startSession({ externalKey: 'ZD-502', startTime: at });
    appliance.endSession(late.lsid, at + 30);
    await until(async () => ticket.comments.length >= 2, 15_000, 'the second session note');
    await settled(late.lsid);
    await artifacts.begin(late.lsid, 'survey:customer');
    await writer.addNote('502', {
      text: `survey ${noteMarker(late.lsid, 'survey:customer')}`,
      marker: noteMarker(late.lsid, 'survey:customer'),
    });
    appliance.setSurvey(late.lsid, 'customer', { satisfaction: 'Fine' });
    await appliance.outboundDrained();
    await settled(late.lsid);
    const surveyJob = await pulls.getJob(`survey-${late.lsid}-customer`);
    expect(surveyJob!.returnvalue).toMatchObject({ written: [] });
    expect(ticket.comments).toHaveLength(3);
    expect(ticket.comments.filter((c) => c.body.includes(noteMarker(late.lsid, 'survey:customer')))).toHaveLength(1);
  });

  it('writes to ServiceNow: work note, transcript file, recordings; an oversized one becomes a link', async () => {
    const record = servicenow.createRecord('INC0010001');
    await link('servicenow', record.sys_id, record.number, 'INC0010001');
    const s = richSession('INC0010001', { ...REC, session: MAX_ATTACHMENT + 1 });
    await until(async () => record.work_notes.length >= 4, 20_000, 'the note and recordings');
    await settled(s.lsid);

    expect(record.comments).toEqual([]);
    expect(record.work_notes).toHaveLength(4);
    expect(record.work_notes[0]).toContain('Chat transcript:');
    expect(record.work_notes[0]).toContain('Casey Customer: My printer is on fire <b>help</b>');
    expect(record.work_notes[0]).toContain('* Screen sharing started');
    const linkNote = record.work_notes.find((n) => n.includes('is not attached'))!;
    expect(linkNote).toContain('is not attached: it is larger than the 0.2 MiB attachment limit (RSB_MAX_ATTACHMENT_BYTES)');
    expect(linkNote).toContain(`https://support.example.com/session_download?lsid=${s.lsid}&rec=1&view=1`);
    const attached = [...record.attachments].sort((a, b) => (a.file_name < b.file_name ? -1 : 1));
    expect(attached.map((a) => [a.file_name, a.size_bytes, a.sha256])).toEqual([
      [`session-${s.lsid}-commandShell-0.flv`, REC.commandShell, recordingSha256(s.lsid, 'CommandShellRecording', 0, REC.commandShell)],
      [`session-${s.lsid}-showMyScreen-0.flv`, REC.showMyScreen, recordingSha256(s.lsid, 'ShowMyScreenRecording', 0, REC.showMyScreen)],
      [`session-${s.lsid}-transcript.txt`, expect.any(Number), expect.any(String)],
    ]);
  });

  it('delivers everything once after the ticket system answered 503 for a while', async () => {
    zendesk.createTicket('503');
    await link('zendesk', '503', '503', 'ZD-503');
    zendesk.failNext(2, 503);
    const s = richSession('ZD-503');
    const ticket = zendesk.tickets.get('503')!;
    await until(async () => ticket.comments.length >= 1, 30_000, 'everything after the outage');
    await settled(s.lsid);
    expect(ticket.comments).toHaveLength(1);
    expect(ticket.comments.flatMap((c) => c.attachments)).toHaveLength(4);
    expect(zendesk.requests.filter((r) => r.status === 503).length).toBe(2);
  });

  it('writes other sessions while one waits on a slow ticket', async () => {
    const slow = zendesk.createTicket('510');
    const other = zendesk.createTicket('511');
    await link('zendesk', '510', '510', 'ZD-510');
    await link('zendesk', '511', '511', 'ZD-511');
    zendesk.holdNext(1, 'PUT', /^\/api\/v2\/tickets\/510\.json$/);
    const s1 = richSession('ZD-510', { session: 1_000, showMyScreen: 1_000, commandShell: 1_000 });
    await until(async () => zendesk.held.length === 1, 15_000, 'session 1 to wait on Zendesk');
    const s2 = richSession('ZD-511', { session: 1_000, showMyScreen: 1_000, commandShell: 1_000 });
    await until(async () => other.comments.length >= 1, 10_000, "session 2's note while session 1 waits");
    expect(slow.comments).toHaveLength(1);
    zendesk.releaseHeld();
    await settled(s1.lsid);
    await settled(s2.lsid);
    expect(slow.comments).toHaveLength(1);
    expect(other.comments).toHaveLength(1);
    expect([slow, other].map((t) => t.comments[0].attachments.length)).toEqual([4, 4]);
  });

  describe('a session that cannot be written for good', () => {
    const resync = async (lsid: string) => {
      const res = await fetch(`${sut.url}/api/v1/sessions/${lsid}/resync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
      });
      return ((await res.json()) as { jobId: string }).jobId;
    };
    const ended = async (jobId: string) => {
      await until(async () => ['completed', 'failed'].includes(await pulls.getJobState(jobId)), 20_000, `pull ${jobId}`);
      return pulls.getJobState(jobId);
    };
    const chatOnly = (externalKey: string) => {
      const s = appliance.startSession({ externalKey, startTime: at });
      appliance.chat(s.lsid, 'customer', 'Hello?', at + 10);
      appliance.endSession(s.lsid, at + 60);
      return s;
    };

    it('says on the ticket, once, what is missing and how to resync when the report is refused', async () => {
      const ticket = zendesk.createTicket('520');
      await link('zendesk', '520', '520', 'ZD-520');
      appliance.answerNext(1, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]><session_list>&a;</session_list>');
      const s = chatOnly('ZD-520');
      expect(await ended(`pull-${s.lsid}`)).toBe('failed');
      await until(async () => ticket.comments.length === 1, 10_000, 'the failure note');
      const [note] = ticket.comments;
      expect(note.public).toBe(false);
      expect(note.body).toContain(`rs-bridge could not write remote support session ${s.lsid} to this ticket:`);
      expect(note.body).toContain('DOCTYPE');
      expect(note.body).toContain('Missing: the transcript of the session (chat, notes, surveys) and its recordings.');
      expect(note.body).toContain(`POST /api/v1/sessions/${s.lsid}/resync`);

      // A resync that fails again (a truncated answer this time) says nothing more.
      appliance.answerNext(1, '<session_list xmlns="https://www.beyondtrust.com/namespaces/API/reporting"><session lsid="x">');
      expect(await ended(await resync(s.lsid))).toBe('failed');
      expect(ticket.comments).toHaveLength(1);
      // Once the appliance answers, a resync writes the session.
      expect(await ended(await resync(s.lsid))).toBe('completed');
      expect(ticket.comments).toHaveLength(2);
      expect(ticket.comments[1].body).toContain('Hello?');
    });

    it('says so when the ticket system refuses the note (4xx)', async () => {
      const ticket = zendesk.createTicket('521');
      await link('zendesk', '521', '521', 'ZD-521');
      zendesk.failNext(1, 403);
      const s = chatOnly('ZD-521');
      expect(await ended(`pull-${s.lsid}`)).toBe('failed');
      await until(async () => ticket.comments.length === 1, 10_000, 'the failure note');
      expect(ticket.comments[0].body).toContain(`remote support session ${s.lsid} to this ticket: zendesk: HTTP 403`);
    });
  });

  it('skips a session whose external key leads to no ticket, and counts it', async () => {
    const before = zendesk.requests.length + servicenow.requests.length;
    const s = richSession('nobody-knows-this-key');
    await appliance.outboundDrained();
    await until(async () => (await pulls.getJobState(`pull-${s.lsid}`)) === 'completed', 15_000, 'the pull');
    expect((await pulls.getJob(`pull-${s.lsid}`))!.returnvalue).toMatchObject({ skipped: 'no ticket for the external key' });
    expect(await recordings.getJobs(['waiting', 'delayed', 'active', 'completed'])).not.toContainEqual(
      expect.objectContaining({ data: expect.objectContaining({ lsid: s.lsid }) }),
    );
    expect(zendesk.requests.length + servicenow.requests.length).toBe(before);
    // The poller does not even enqueue it.
    expect((await sut.app.get(SessionPoller).poll(at + 120)).enqueued).not.toContain(`pull-${s.lsid}`);
  });

  describe('outbound event endpoint', () => {
    const post = (form: Record<string, string>, headers: Record<string, string> = {}, query = '') =>
      fetch(`${sut.url}/webhooks/beyondtrust${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form).toString(),
      });

    it('refuses a missing or wrong token (401) and a source outside the allow-list (403), enqueuing nothing', async () => {
      const before = await pulls.count();
      const missing = await post({ event: 'support_conference_end', lsid: 'abc' });
      expect(missing.status).toBe(401);
      expect(((await missing.json()) as { error: { message: string } }).error.message).toContain('token is missing');
      expect((await post({ event: 'support_conference_end', lsid: 'abc' }, {}, '?token=wrong-token-0123456789')).status).toBe(401);
      // A token in the body is nothing the appliance can send, and nothing we read.
      expect((await post({ event: 'support_conference_end', lsid: 'abc', outbound_event_token: EVENTS_TOKEN })).status).toBe(401);
      const outside = await post(
        { event: 'support_conference_end', lsid: 'abc' },
        { 'x-forwarded-for': '198.51.100.7', 'x-rsb-events-token': EVENTS_TOKEN },
      );
      expect(outside.status).toBe(403);
      expect(((await outside.json()) as { error: { message: string } }).error.message).toContain('198.51.100.7');
      expect(await pulls.count()).toBe(before);
    });

    it('answers 200 to an unusable but authenticated event so the appliance moves on, and enqueues nothing', async () => {
      const before = await pulls.count();
      const unknown = await post({ event: 'support_conference_frobnicated', lsid: 'abc' }, {}, `?token=${EVENTS_TOKEN}`);
      expect(unknown.status).toBe(200);
      expect(await unknown.json()).toEqual({ ok: true, ignored: 'event support_conference_frobnicated is not used' });
      const noLsid = await post({ event: 'support_conference_end' }, { 'x-rsb-events-token': EVENTS_TOKEN });
      expect(await noLsid.json()).toEqual({ ok: true, ignored: 'event support_conference_end carries no usable lsid' });
      expect(await pulls.count()).toBe(before);
    });

    it('keeps the session state from begin, member and owner events, exactly as the appliance posts them', async () => {
      const s = richSession('ZD-state', REC, false);
      await appliance.outboundDrained();
      // Only the appliance's own variables arrive: the token rode in the recipient URL.
      const deliveries = appliance.outboundDeliveries.filter((d) => d.lsid === s.lsid);
      expect(deliveries.map((d) => [d.event, d.status])).toEqual([
        ['support_conference_begin', 200],
        ['support_conference_member_added', 200],
        ['support_conference_member_added', 200],
        ['support_conference_owner_changed', 200],
      ]);
      const redis = new Redis(REDIS_URL);
      const state = await redis.hgetall(`${sut.prefix}:session:${s.lsid}`);
      redis.disconnect();
      expect(state).toMatchObject({ state: 'active', externalKey: 'ZD-state', owner: 'bob', members: 'bob' });
    });
  });
});

/** A fake appliance and a fake Zendesk with rs-bridge wired to both, plus `env`; outbound events off unless `env` sets them up. */
const zendeskBridge = (env: Record<string, string>) => startFakeBridge(env, { events: false });

describe('Session end → ticket with auto-create', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let bridge: FakeBridge;

  beforeAll(
    async () =>
      ({ appliance, zendesk, sut } = bridge =
        await zendeskBridge({
          BT_POLL_INTERVAL_SECONDS: '0',
          RSB_AUTO_CREATE: 'zendesk',
          RSB_AUTO_CREATE_TRIGGER: 'WALKUP',
        })),
  );
  afterAll(() => bridge.stop());

  it('creates one ticket for an unlinked session whose key carries the trigger, even when pulled twice', async () => {
    const s = appliance.startSession({ externalKey: 'WALKUP-desk-4', customerName: 'Walk Up' });
    appliance.chat(s.lsid, 'customer', 'Hello from the front desk');
    appliance.endSession(s.lsid);
    const ignored = appliance.startSession({ externalKey: 'desk-5' });
    appliance.endSession(ignored.lsid);
    const poll = await sut.app.get(SessionPoller).poll(Math.floor(Date.now() / 1000) + 1);
    expect(poll.enqueued).toEqual([`pull-${s.lsid}`]);
    await until(
      async () => zendesk.tickets.size === 1 && [...zendesk.tickets.values()][0].comments.length >= 2,
      15_000,
      'the created ticket',
    );

    const resync = await fetch(`${sut.url}/api/v1/sessions/${s.lsid}/resync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(resync.status).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    expect(zendesk.tickets.size).toBe(1);
    const [ticket] = zendesk.tickets.values();
    expect(ticket.subject).toBe('Remote support session with Walk Up (WALKUP-desk-4)');
    expect(ticket.comments).toHaveLength(2);
    expect(ticket.comments[1].body).toContain('Hello from the front desk');
  });

  it('writes to the ticket an interrupted attempt created instead of creating a second one', async () => {
    const s = appliance.startSession({ externalKey: 'WALKUP-desk-6' });
    appliance.chat(s.lsid, 'customer', 'Second try');
    appliance.endSession(s.lsid);
    // What a worker leaves behind when it dies between creating the ticket and recording the link.
    const orphan = zendesk.createTicket('4242');
    orphan.externalId = `rs-bridge:${s.lsid}`;
    const before = zendesk.tickets.size;

    const resync = await fetch(`${sut.url}/api/v1/sessions/${s.lsid}/resync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(resync.status).toBe(202);
    await until(async () => orphan.comments.length >= 1, 15_000, 'the note on the orphaned ticket');
    await new Promise((r) => setTimeout(r, 1000));
    expect(zendesk.tickets.size).toBe(before);
    expect(orphan.comments).toHaveLength(1);
    expect(orphan.comments[0].body).toContain('Second try');
    expect(zendesk.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/tickets.json')).toHaveLength(1);
  });
});

describe('Session end → ServiceNow record with auto-create', () => {
  let appliance: FakeAppliance;
  let servicenow: FakeServiceNow;
  let sut: RunningApp;

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    servicenow = await new FakeServiceNow().start();
    sut = await startApp({
      ...applianceEnv(appliance),
      ...servicenowEnv(servicenow),
      BT_POLL_INTERVAL_SECONDS: '0',
      RSB_AUTO_CREATE: 'servicenow',
    });
  });
  afterAll(async () => {
    await sut.close();
    await Promise.all([appliance.stop(), servicenow.stop()]);
  });

  const resync = (lsid: string) =>
    fetch(`${sut.url}/api/v1/sessions/${lsid}/resync`, { method: 'POST', headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });

  it('creates one record carrying the session as its correlation id, and finds it again after an interrupted attempt', async () => {
    const s = appliance.startSession({ externalKey: 'walk-in' });
    appliance.chat(s.lsid, 'customer', 'No ticket yet');
    appliance.endSession(s.lsid);
    expect((await resync(s.lsid)).status).toBe(202);
    await until(async () => [...servicenow.records.values()].some((r) => r.work_notes.length >= 1), 15_000, 'the created record');
    const [created] = servicenow.records.values();
    expect(servicenow.records.size).toBe(1);
    expect(created.fields.correlation_id).toBe(`rs-bridge:${s.lsid}`);
    expect(created.work_notes[0]).toContain('No ticket yet');

    const next = appliance.startSession({ externalKey: 'walk-in' });
    appliance.chat(next.lsid, 'customer', 'Created, then the worker died');
    appliance.endSession(next.lsid);
    const orphan = servicenow.createRecord('INC0099999');
    orphan.fields.correlation_id = `rs-bridge:${next.lsid}`;
    expect((await resync(next.lsid)).status).toBe(202);
    await until(async () => orphan.work_notes.length >= 1, 15_000, 'the note on the orphaned record');
    await new Promise((r) => setTimeout(r, 1000));
    expect(servicenow.records.size).toBe(2);
    expect(orphan.work_notes[0]).toContain('Created, then the worker died');
  });
});

describe('Session end → ticket by polling alone (no outbound events configured)', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let bridge: FakeBridge;

  beforeAll(async () => ({ appliance, zendesk, sut } = bridge = await zendeskBridge({ BT_POLL_INTERVAL_SECONDS: '1' })));
  afterAll(() => bridge.stop());

  it('finds the ended session on the schedule, writes it once, and advances the cursor', async () => {
    zendesk.createTicket('777');
    const s = appliance.startSession({ externalKey: '777' });
    appliance.chat(s.lsid, 'customer', 'Polled, not pushed');
    appliance.endSession(s.lsid);
    const ticket = zendesk.tickets.get('777')!;
    await until(async () => ticket.comments.length >= 1, 15_000, 'the note from the poll');
    const listings = () => appliance.requests.filter((r) => r.params.generate_report === 'SupportSessionListing').length;
    const seen = listings();
    await until(async () => listings() >= seen + 2, 10_000, 'two more polls');
    expect(ticket.comments).toHaveLength(1);
    expect(ticket.comments[0].body).toContain('Polled, not pushed');
    expect(await sut.app.get(SessionPoller).cursor()).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
  });
});

describe('Session end → command shell recordings, whichever way the report numbers them', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;

  beforeAll(async () => {
    ({ appliance, zendesk, sut } = await zendeskBridge({ BT_POLL_INTERVAL_SECONDS: '0', BT_EVENTS_TOKEN: EVENTS_TOKEN }));
    appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN, 'query');
  });
  afterAll(async () => {
    await appliance.stop();
    await sut.close();
    await zendesk.stop();
  });

  // The guide's SupportSession element table numbers <command_shell_recording instance> from 0; its
  // CommandShellRecording section says the report numbers them from 1. The fake plays either.
  it.each([
    ['from 0, as the element table says', 0],
    ['from 1, as the CommandShellRecording section says', 1],
  ] as const)('attaches each recording the report lists %s, under its own label', async (_reading, numbering) => {
    appliance.commandShellNumbering = numbering;
    const ticketId = String(800 + numbering);
    zendesk.createTicket(ticketId);
    const s = appliance.startSession({ externalKey: ticketId });
    appliance.joinRep(s.lsid, '2');
    appliance.addRecording(s.lsid, 'commandShell', 11_000);
    appliance.addRecording(s.lsid, 'commandShell', 22_000);
    appliance.endSession(s.lsid);
    const ticket = zendesk.tickets.get(ticketId)!;
    await until(async () => ticket.comments.length >= 1, 20_000, 'the note with two command shell recordings');
    await until(async () => (await sut.app.get(ArtifactStore).done(s.lsid)).note !== undefined, 10_000, 'the pull to finish');

    expect(ticket.comments).toHaveLength(1);
    const [note] = ticket.comments;
    expect(note.body).toContain(`Command shell recording 1 attached: session-${s.lsid}-commandShell-0.flv`);
    expect(note.body).toContain(`Command shell recording 2 attached: session-${s.lsid}-commandShell-1.flv`);
    expect(
      note.attachments
        .filter((a) => a.filename.endsWith('.flv'))
        .map((a) => [a.filename, a.size, a.sha256])
        .sort(),
    ).toEqual([
      [`session-${s.lsid}-commandShell-0.flv`, 11_000, recordingSha256(s.lsid, 'CommandShellRecording', 0, 11_000)],
      [`session-${s.lsid}-commandShell-1.flv`, 22_000, recordingSha256(s.lsid, 'CommandShellRecording', 1, 22_000)],
    ]);
    // Exactly the two recordings the report listed were asked for, each once: no neighbour, no instance outside the list.
    const asked = appliance.requests
      .filter((r) => r.params.generate_report === 'CommandShellRecording' && r.params.lsid === s.lsid)
      .map((r) => [r.params.instance, r.status]);
    expect(asked.sort()).toEqual([
      ['0', 200],
      ['1', 200],
    ]);
  });
});

describe('Session end → ticket when Zendesk takes an upload and never answers', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let bridge: FakeBridge;

  beforeAll(
    async () =>
      ({ appliance, zendesk } = bridge =
        await zendeskBridge({
          BT_POLL_INTERVAL_SECONDS: '1',
          RSB_TICKET_TIMEOUT_MS: '1000',
        })),
  );
  afterAll(() => bridge.stop());

  it('gives the upload up after RSB_TICKET_TIMEOUT_MS and writes the session once on the retry', async () => {
    const ticket = zendesk.createTicket('778');
    zendesk.holdNext(1, 'POST', /^\/api\/v2\/uploads\.json/);
    const s = appliance.startSession({ externalKey: '778' });
    appliance.chat(s.lsid, 'customer', 'Is anyone there?');
    appliance.endSession(s.lsid);
    await until(async () => zendesk.held.length === 1, 15_000, 'Zendesk to take the transcript and hold its answer');
    await until(async () => ticket.comments.length === 1, 15_000, 'the note, on the retry');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(ticket.comments).toHaveLength(1);
    expect(ticket.comments[0].body).toContain('Is anyone there?');
    expect(ticket.comments[0].attachments.map((a) => a.filename)).toEqual([`session-${s.lsid}-transcript.html`]);
  });
});
