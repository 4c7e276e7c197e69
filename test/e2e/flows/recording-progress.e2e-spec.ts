import { Queue, QueueEvents } from 'bullmq';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { QUEUES } from '../../../src/jobs/queues';
import { RunningApp, startApp } from '../../support/app';
import { until } from '../../support/child';
import { applianceEnv, zendeskEnv } from '../../support/fake-env';
import { REDIS_URL } from '../../support/redis';

const EVENTS_TOKEN = 'events-token-0123456789abcdef';
const SIZE = 6 * 1024 * 1024;

describe("A recording transfer shows in its job: bytes as they go, and why it waited (Bull Board's Progress and Logs)", () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let recordings: Queue;
  let sessionEnd: Queue;
  let events: QueueEvents;

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    sut = await startApp({
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
      BT_POLL_INTERVAL_SECONDS: '0',
      BT_EVENTS_TOKEN: EVENTS_TOKEN,
      // On Zendesk a recording rides on the session's note; one slower than this wait gets its own transfer
      // job, whose Progress and Logs this test reads.
      RSB_NOTE_RECORDINGS_WAIT_SECONDS: '1',
    });
    appliance.recordingBytesPerSecond = 3 * 1024 * 1024;
    appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN, 'query');
    const connection = { url: REDIS_URL };
    recordings = new Queue(QUEUES.recordings, { connection, prefix: sut.prefix });
    sessionEnd = new Queue(QUEUES.sessionEnd, { connection, prefix: sut.prefix });
    events = new QueueEvents(QUEUES.recordings, { connection, prefix: sut.prefix });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await Promise.all([events.close(), recordings.close(), sessionEnd.close()]);
    await appliance.stop();
    await sut.close();
    await zendesk.stop();
  });

  it('reports the bytes every MiB or so up to the whole file, and logs the wait for Zendesk and the transfer', async () => {
    const progress: { jobId: string; bytes: number; total?: number }[] = [];
    events.on('progress', ({ jobId, data }) => progress.push({ jobId, ...(data as { bytes: number; total?: number }) }));
    zendesk.createTicket('950');
    const s = appliance.startSession({ externalKey: '950' });
    appliance.joinRep(s.lsid, '2');
    appliance.addRecording(s.lsid, 'session', SIZE);
    // Zendesk's next answers are 429 with Retry-After: some job waits, and says so in its log.
    zendesk.failNext(2, 429, '1');
    appliance.endSession(s.lsid);
    const ticket = zendesk.tickets.get('950')!;
    await until(async () => ticket.comments.some((c) => c.attachments.some((a) => a.size === SIZE)), 30_000, 'the recording on the ticket');

    // The comment lands a moment before BullMQ moves the job to completed (long moments on a loaded machine).
    const completed = async () => (await recordings.getJobs(['completed'])).filter((j) => (j.data as { lsid: string }).lsid === s.lsid);
    await until(async () => (await completed()).length > 0, 10_000, 'the transfer job completed');
    const [job] = await completed();
    expect(job.progress).toEqual({ bytes: SIZE, total: SIZE });
    const ours = progress.filter((p) => p.jobId === job.id);
    expect(ours.length).toBeGreaterThanOrEqual(4);
    expect(ours.map((p) => p.bytes)).toEqual([...ours.map((p) => p.bytes)].sort((a, b) => a - b));
    expect(ours.at(-1)).toEqual({ jobId: job.id, bytes: SIZE, total: SIZE });

    const { logs } = await recordings.getJobLogs(job.id!);
    expect(logs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/session recording: 6\.0 MiB from the appliance/),
        expect.stringMatching(new RegExp(`session-${s.lsid}-session-0\\.\\w+: ${SIZE} bytes to zendesk ticket 950 in \\d+\\.\\d s`)),
      ]),
    );
    const pulls = (await sessionEnd.getJobs(['completed'])).filter((j) => (j.data as { lsid: string }).lsid === s.lsid);
    const all = [...logs, ...(await Promise.all(pulls.map(async (p) => (await sessionEnd.getJobLogs(p.id!)).logs))).flat()];
    expect(all).toEqual(expect.arrayContaining([expect.stringMatching(/429.*the queue waits 1 s \(Retry-After\); no attempt spent/)]));
  });
});
