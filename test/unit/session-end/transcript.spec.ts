import type { SessionEvent, SupportSessionReport } from '../../../src/beyondtrust/reporting.types';
import { recordingsOf, sessionView } from '../../../src/session-end/transcript';

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
const ev = (over: Partial<SessionEvent>): SessionEvent => ({
  timestamp: T0,
  type: 'Chat Message',
  files: [],
  data: {},
  attributes: {},
  ...over,
});

const report = (over: Partial<SupportSessionReport> = {}): SupportSessionReport =>
  ({
    lsid: 'ls-1',
    sessionType: 'support',
    customAttributes: [],
    showMyScreenRecordings: [],
    commandShellRecordings: [],
    fileTransferCount: 0,
    fileMoveCount: 0,
    fileDeleteCount: 0,
    customers: [],
    reps: [],
    teams: [],
    events: [],
    customerSurveys: [],
    repSurveys: [],
    ...over,
  }) as unknown as SupportSessionReport;

describe('the transcript view of a session report', () => {
  it('gives chat lines their speaker, role and UTC time, and marks what the system said', () => {
    const view = sessionView(
      report({
        events: [
          ev({ timestamp: T0 + 61, performedBy: { type: 'representative', name: 'Ann' } as SessionEvent['performedBy'], body: 'Hello' }),
          ev({ timestamp: T0 + 62, body: 'Session started' }),
          ev({
            type: 'Session Note Added',
            performedBy: { type: 'representative', name: 'Ann' } as SessionEvent['performedBy'],
            data: { note: 'rebooted' },
          }),
        ],
      }),
    );
    expect(view.chat).toEqual([
      { at: '2026-01-01T00:01:01Z', time: '00:01:01', speaker: 'Ann', role: 'representative', text: 'Hello', system: false },
      { at: '2026-01-01T00:01:02Z', time: '00:01:02', speaker: 'unknown', role: 'system', text: 'Session started', system: true },
    ]);
    expect(view.notes).toEqual([{ at: '2026-01-01T00:00:00Z', time: '00:00:00', by: 'Ann', text: 'rebooted' }]);
  });

  it('lists one file row per file of a transfer event, failed ones included', () => {
    const view = sessionView(
      report({
        events: [
          ev({ type: 'File Upload', files: [{ name: 'a.log', size: 10 }, { name: 'b.log' }] }),
          ev({ type: 'File Download Failed', filename: 'c.zip', filesize: 5 }),
          ev({ type: 'File Deleted', filename: 'not-a-transfer' }),
        ],
      }),
    );
    expect(view.files.map((f) => [f.direction, f.name, f.size])).toEqual([
      ['upload', 'a.log', 10],
      ['upload', 'b.log', undefined],
      ['download failed', 'c.zip', 5],
    ]);
  });

  it('names the primary customer, or the first, or says customer', () => {
    const customers = [
      { username: 'first', primary: false },
      { username: 'main', primary: true, publicIp: '203.0.113.5' },
    ] as unknown as SupportSessionReport['customers'];
    expect(sessionView(report({ customers })).customer).toMatchObject({ name: 'main', ip: '203.0.113.5' });
    expect(sessionView(report()).customer.name).toBe('customer');
  });

  it('keys each recording by kind and instance and labels it from 1', () => {
    const refs = recordingsOf(
      report({
        recordingDownloadUrl: 'https://bt/dl',
        showMyScreenRecordings: [{ instance: 3, downloadInstance: 0, downloadUrl: 'https://bt/sms' }],
        commandShellRecordings: [{ instance: 1, downloadInstance: 1 }],
      } as Partial<SupportSessionReport>),
    );
    expect(refs.map((r) => [r.artifact, r.label])).toEqual([
      ['recording:session:0', 'session recording'],
      ['recording:showMyScreen:3', 'Show My Screen recording 1'],
      ['recording:commandShell:1', 'command shell recording 2'],
    ]);
  });
});
