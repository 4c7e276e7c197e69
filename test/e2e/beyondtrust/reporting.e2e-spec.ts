import { createHash } from 'node:crypto';
import { BeyondTrustClient } from '../../../src/beyondtrust/beyondtrust.client';
import { BeyondTrustApiError } from '../../../src/beyondtrust/beyondtrust.errors';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { ClientHarness, withAccount } from './support';

const sha = async (stream: NodeJS.ReadableStream) => {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { digest: hash.digest('hex'), bytes };
};

describe('BeyondTrust reporting API against the fake appliance', () => {
  let fake: FakeAppliance;
  let harness: ClientHarness;
  let sut: BeyondTrustClient;
  let lsid: string;
  const t0 = Math.floor(Date.now() / 1000) - 600;

  beforeAll(async () => {
    fake = await new FakeAppliance().start();
    harness = new ClientHarness(fake);
    sut = harness.client();

    const session = fake.startSession({ externalKey: 'INC0012345', custom: { ticket_id: '12345' }, queueId: 'team:1', startTime: t0 });
    lsid = session.lsid;
    fake.joinRep(lsid, '1', t0 + 5);
    fake.chat(lsid, 'customer', 'my printer <prints> nothing & smokes', t0 + 10);
    fake.chat(lsid, { repId: '1' }, 'binary \u0001 paste', t0 + 20);
    fake.addEvent(lsid, {
      type: 'File Upload',
      timestamp: t0 + 30,
      filename: 'fix.ps1',
      filesize: 2048,
      performedBy: { gsnumber: '11', type: 'representative', name: 'Ada Admin' },
    });
    fake.addEvent(lsid, { type: 'Session Note Added', timestamp: t0 + 40, body: 'replaced the fuser' });
    fake.addEvent(lsid, {
      type: 'System Information Retrieved',
      timestamp: t0 + 6,
      systemInformation: [{ name: 'Drives', fields: ['Drive', 'Free'], rows: [['C:', '10 GB']] }],
    });
    fake.addRecording(lsid, 'session', 300_000);
    fake.addRecording(lsid, 'showMyScreen', 70_000);
    fake.addRecording(lsid, 'commandShell', 1_000);
    fake.setSurvey(lsid, 'customer', { satisfied: 'yes' });
    fake.setSurvey(lsid, 'rep', { resolved: 'yes' });
    fake.endSession(lsid, t0 + 300);
    fake.startSession({ externalKey: 'STILL-OPEN', startTime: t0 + 100 });
  });
  afterAll(async () => {
    await harness.close();
    await fake.stop();
  });

  it('reports one session with everything a transcript needs', async () => {
    const report = (await sut.reporting.supportSession(lsid))!;
    expect(report).toMatchObject({
      lsid,
      externalKey: 'INC0012345',
      startTime: { unix: t0 },
      endTime: { unix: t0 + 300 },
      duration: '00:05:00',
      customAttributes: [{ codeName: 'ticket_id', value: '12345' }],
      primaryRep: { id: '1', name: 'Ada Admin' },
      reps: [{ id: '1', username: 'admin', sessionOwner: true }],
      teams: [{ id: '1', name: 'Service Desk', primary: true }],
      showMyScreenRecordings: [{ instance: 0 }],
      commandShellRecordings: [{ instance: 0, downloadInstance: 0 }],
      customerSurveys: [{ answers: [{ name: 'satisfied', answers: ['yes'] }] }],
      repSurveys: [{ answers: [{ name: 'resolved', answers: ['yes'] }] }],
      fileTransferCount: 1,
    });
    const chats = report.events.filter((e) => e.type === 'Chat Message');
    expect(chats.map((e) => [e.performedBy?.type, e.body])).toEqual([
      ['customer', 'my printer <prints> nothing & smokes'],
      ['representative', 'binary \u0001 paste'],
    ]);
    expect(report.events.find((e) => e.type === 'System Information Retrieved')!.systemInformation![0].rows).toEqual([['C:', '10 GB']]);
    expect(await sut.reporting.supportSession('0000')).toBeUndefined();
  });

  it('selects sessions by lsids and by time window, ended ones only for end_time', async () => {
    expect((await sut.reporting.supportSessions({ lsids: [lsid, 'unknown'] })).map((s) => s.lsid)).toEqual([lsid]);
    const started = await sut.reporting.supportSessions({ startTime: t0 - 1, duration: 0 });
    expect(started.map((s) => s.externalKey).sort()).toEqual(['INC0012345', 'STILL-OPEN']);
    expect(started.find((s) => s.externalKey === 'STILL-OPEN')!.endTime).toBeUndefined();
    const listing = await sut.reporting.supportSessionListing({ endTime: t0, duration: 3600 });
    expect(listing).toEqual([{ lsid, lseq: expect.any(Number), hasRecording: true, externalKey: 'INC0012345' }]);
  });

  it('reports summaries and exit surveys', async () => {
    expect(await sut.reporting.supportSessionSummary({ startDate: '2000-01-01', duration: 0 }, 'team')).toEqual([
      expect.objectContaining({ type: 'team', totalSessions: 2 }),
    ]);
    const surveys = await sut.reporting.exitSurveys('customer', { lsid });
    // "lsid and report_type": the report type is required with an lsid too.
    expect(fake.requests.filter((r) => r.path === '/api/reporting').pop()!.params).toEqual({
      generate_report: 'SupportCustExitSurvey',
      lsid,
      report_type: 'rep',
    });
    expect(surveys).toEqual([
      expect.objectContaining({
        lsid,
        ts: t0,
        sessionType: 'support',
        publicSite: { id: '1', name: 'Default' },
        submittedBy: { type: 'cust', name: 'Casey Customer' },
        primaryCustomer: 'Casey Customer',
        primaryRep: { id: '1', name: 'Ada Admin' },
        primaryTeam: { id: '1', name: 'Service Desk' },
        customers: [expect.objectContaining({ username: 'Casey Customer', primary: true })],
        reps: [expect.objectContaining({ id: '1', username: 'admin', sessionOwner: true })],
        teams: [{ id: '1', name: 'Service Desk', primary: true }],
        repResolved: false,
        questions: [expect.objectContaining({ name: 'satisfied', answers: ['yes'] })],
      }),
    ]);
    const byTeam = await sut.reporting.exitSurveys('rep', { lsids: [lsid], reportType: 'team' });
    expect(byTeam.map((x) => x.submittedBy)).toEqual([{ type: 'rep', name: 'Ada Admin' }]);
  });

  it('checks window parameters before sending', async () => {
    await expect(sut.reporting.supportSessionListing({ startDate: '01/10/2016', duration: 0 })).rejects.toThrow(/YYYY-MM-DD/);
    await expect(sut.reporting.supportSessionListing({ startTime: 1, duration: -1 })).rejects.toThrow(/duration/);
  });

  it('streams each recording kind with its bytes intact', async () => {
    for (const [download, kind, instance, size] of [
      [() => sut.reporting.supportSessionRecording(lsid), 'SupportSessionRecording', 0, 300_000],
      [() => sut.reporting.showMyScreenRecording(lsid, 0), 'ShowMyScreenRecording', 0, 70_000],
      [() => sut.reporting.commandShellRecording(lsid, 0), 'CommandShellRecording', 0, 1_000],
    ] as const) {
      const recording = await download();
      expect(recording.contentLength).toBe(size);
      expect(recording.filename).toBe(`${kind}-${lsid}-${instance}.flv`);
      const expected = createHash('sha256')
        .update(FakeAppliance.recordingBytes(lsid, kind, instance, 0, size))
        .digest('hex');
      expect(await sha(recording.stream)).toEqual({ digest: expected, bytes: size });
    }
  });

  it('turns an XML answer to a recording request into the appliance error', async () => {
    await expect(sut.reporting.showMyScreenRecording(lsid, 5)).rejects.toThrow(new BeyondTrustApiError('Recording not found'));
    await expect(sut.reporting.supportSessionRecording('nope')).rejects.toThrow('Session not found');
  });

  it('gunzips archives on the fly', async () => {
    const archive = await sut.reporting.archive('event', '2024-01-01', 0);
    let text = '';
    for await (const chunk of archive.stream) text += (chunk as Buffer).toString();
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string })[0],
    ).toEqual({ event: 'truncate_model' });
    const events: Record<string, unknown>[] = [];
    for await (const event of sut.reporting.archiveEvents('2024-01-01', 1)) events.push(event);
    expect(events).toEqual([{ event: 'truncate_model' }, { event: 'model_insert', table: 'queue' }]);
    expect(await sut.reporting.archiveState('2024-01-01', 1)).toEqual({ queue: null });
  });

  it('reports team activity, presentations, license usage and the archive listing', async () => {
    const activity = await sut.reporting.supportTeam({ startTime: t0 - 1, duration: 3600 }, 1);
    // The root's <start_time>/<end_time> are "system time" text with a UTC timestamp attribute: the attribute counts.
    expect(activity.startTime).toEqual({ unix: t0 - 1, iso: new Date((t0 - 1) * 1000).toISOString().replace('.000Z', 'Z') });
    expect(activity.endTime!.unix).toBe(t0 - 1 + 3600);
    expect(activity.teams).toEqual([
      expect.objectContaining({
        id: '1',
        name: 'Service Desk',
        loggedInRepresentatives: [expect.objectContaining({ id: '1' }), expect.objectContaining({ id: '2' })],
        events: [
          expect.objectContaining({
            type: 'Session Transferred to Queue',
            destinations: [{ gsnumber: '11', name: 'Ada Admin', type: undefined }],
          }),
        ],
      }),
    ]);

    fake.presentations.set('p1', {
      lsid: 'p1',
      lseq: 7,
      startTime: t0,
      endTime: t0 + 60,
      presenterId: '2',
      attendees: [{ name: 'Dana', ip: '198.51.100.9' }],
      recording: 5_000,
    });
    const [presentation] = await sut.reporting.presentationSessions({ lsid: 'p1' });
    expect(presentation).toMatchObject({
      lsid: 'p1',
      lseq: 7,
      endTime: { unix: t0 + 60 },
      attendees: [{ username: 'Dana', publicIp: '198.51.100.9' }],
      presenters: [{ id: '2', username: 'bob' }],
    });
    expect(await sut.reporting.presentationSessionListing({ startTime: t0 - 1, duration: 0 })).toEqual([
      { lsid: 'p1', hasRecording: true },
    ]);
    const recording = await sut.reporting.presentationSessionRecording('p1');
    expect((await sha(recording.stream)).bytes).toBe(5_000);

    fake.licenseUsage.push({ timestamp: t0, counts: [{ type: 'representative', reason: 'login', count: 9 }] });
    const usage = await sut.reporting.licenseUsage({ startDate: '2000-01-01', duration: 0 }, 'day');
    expect(usage).toMatchObject({ startTime: { unix: 946684800, iso: '2000-01-01T00:00:00Z' }, groupBy: 'day' });
    expect(usage.endTime!.unix).toBeGreaterThanOrEqual(t0);
    expect(usage.intervals).toEqual([
      {
        timestamp: t0,
        datetime: new Date(t0 * 1000).toISOString(),
        counts: [{ licenseType: 'representative', reason: 'login', count: 9 }],
      },
    ]);
    // An appliance error comes inside <license_usage>, as the guide says: an exception, never an empty report.
    await expect(sut.reporting.licenseUsage({ startDate: '2000-01-01', duration: 0 }, 'week' as never)).rejects.toThrow(
      new BeyondTrustApiError('Invalid group_by'),
    );
    expect((await sha((await sut.reporting.endpointLicenseUsage()).stream)).bytes).toBe(4_096);

    const archives = await sut.reporting.archiveListing('2024-01-01');
    expect(archives.state).toEqual([{ index: 1, time: { iso: '2024-01-01T00:00:00.000Z', unix: 1704067200 }, eventArchiveIndex: 1 }]);
    expect(archives.event[0]).toMatchObject({ index: 1, endTime: { unix: 1704067800 } });
  });

  it('says clearly when the API account may not read support session reports', () =>
    withAccount({ perm_reporting_support: '0' }, async (client) => {
      await expect(client.reporting.supportSession('x')).rejects.toThrow(/refused the request: .*Document Not Found/);
    }));

  it('needs the archive permission for archives and the license permission for license reports', () =>
    withAccount({ perm_reporting_archive: '0', perm_reporting_license: '0' }, async (client) => {
      await expect(client.reporting.archiveListing('2024-01-01')).rejects.toThrow(/Document Not Found/);
      await expect(client.reporting.licenseUsage({ startDate: '2024-01-01', duration: 0 }, 'day')).rejects.toThrow(/Document Not Found/);
      await expect(client.reporting.supportSessionListing({ startTime: 0, duration: 0 })).resolves.toEqual([]);
    }));
});

describe('Reporting API text as the appliance may write it', () => {
  let fake: FakeAppliance;
  let harness: ClientHarness;
  let sut: BeyondTrustClient;
  const t0 = Math.floor(Date.now() / 1000) - 600;

  beforeAll(async () => {
    fake = await new FakeAppliance().start();
    harness = new ClientHarness(fake);
    sut = harness.client();
  });
  afterAll(async () => {
    await harness.close();
    await fake.stop();
  });

  it('decodes numeric character references in every text value and keeps a chat line exactly as said', async () => {
    // The fake writes every non-ASCII character as &#NNN; (or &#xHHHH; past U+FFFF), as an XML writer may.
    const externalKey = 'TICKET-Ünïcødé-☺';
    const s = fake.startSession({
      externalKey,
      custom: { customer_email: 'zoë@exämple.com' },
      customerName: 'Zoë Ångström 😀',
      queueId: 'team:1',
      startTime: t0,
    });
    fake.reps[1].invited = true;
    try {
      fake.joinRep(s.lsid, '2', t0 + 1);
      fake.chat(s.lsid, 'customer', '  café ☺ 😀 & <b>bold</b> "q" \'s  \n', t0 + 2);
      fake.chat(s.lsid, { repId: '2' }, '\tindented, then two spaces  ', t0 + 3);
      fake.setSurvey(s.lsid, 'customer', { comment: 'Très bien — 👍' });
      fake.endSession(s.lsid, t0 + 60);
      const report = (await sut.reporting.supportSession(s.lsid))!;
      expect(report.externalKey).toBe(externalKey);
      expect(report.customAttributes).toEqual([{ codeName: 'customer_email', displayName: 'customer email', value: 'zoë@exämple.com' }]);
      expect(report.primaryCustomer!.name).toBe('Zoë Ångström 😀');
      expect(report.customers[0]).toMatchObject({ username: 'Zoë Ångström 😀', info: { name: 'Zoë Ångström 😀' } });
      expect(report.events.filter((e) => e.type === 'Chat Message').map((e) => [e.performedBy!.name, e.body])).toEqual([
        ['Zoë Ångström 😀', '  café ☺ 😀 & <b>bold</b> "q" \'s  \n'],
        ['Bob Tech', '\tindented, then two spaces  '],
      ]);
      expect(report.customerSurveys[0].answers[0].answers).toEqual(['Très bien — 👍']);
      expect(report.reps).toEqual([expect.objectContaining({ id: '2', displayNumber: '2', invited: true })]);
      const [survey] = await sut.reporting.exitSurveys('customer', { lsid: s.lsid });
      expect(survey.submittedBy.name).toBe('Zoë Ångström 😀');
      const listing = await sut.reporting.supportSessionListing({ startTime: t0, duration: 10 });
      expect(listing.map((x) => x.externalKey)).toEqual([externalKey]);
    } finally {
      fake.reps[1].invited = false;
    }
  });
});
