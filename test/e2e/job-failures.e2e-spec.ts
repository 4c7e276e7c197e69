import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { Child, freePort, spawnTs, until } from '../support/child';
import { applianceEnv, zendeskEnv } from '../support/fake-env';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';

const API_TOKEN = 'failures-api-token-0123456789';

interface LogLine {
  level: number;
  msg: string;
  queue?: string;
  jobId?: string;
  ticket?: string;
  lsid?: string;
  attempt?: number;
  maxAttempts?: number;
  final?: boolean;
  reason?: string;
}

describe('Failed and retried jobs are logged with their ids, attempt and reason', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let child: Child;
  let base: string;
  const prefix = uniquePrefix('fail');

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    const port = await freePort();
    child = spawnTs('src/main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL,
      RSB_REDIS_PREFIX: prefix,
      RSB_API_TOKENS: API_TOKEN,
      BT_POLL_INTERVAL_SECONDS: '0',
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
    });
    await child.waitForOutput(/listening on/);
    base = `http://127.0.0.1:${port}`;
  }, 60_000);
  afterAll(async () => {
    child.process.kill('SIGTERM');
    await child.exited;
    await deleteKeys(prefix);
    await Promise.all([appliance.stop(), zendesk.stop()]);
  });

  const lines = (): LogLine[] =>
    child
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const jobLine = (jobId: string, final: boolean) =>
    until(async () => lines().find((l) => l.jobId === jobId && l.final === final), 30_000, `the log line of ${jobId}`);
  const requestKey = async (ticketId: string) => {
    const res = await zendesk.sendWebhook(`${base}/webhooks/zendesk`, { action: 'session.requested', ticket: { id: ticketId } });
    return ((await res.json()) as { jobId: string }).jobId;
  };

  it("logs a key's retried write-back as a warning, then one given up as an error", async () => {
    zendesk.createTicket('601');
    zendesk.failNext(1, 503);
    const retried = `write-${await requestKey('601')}`;
    expect(await jobLine(retried, false)).toMatchObject({
      level: 40,
      queue: 'ticket-writes',
      ticket: 'zendesk:601',
      attempt: 1,
      maxAttempts: 15,
      reason: 'zendesk: HTTP 503: ServiceUnavailable: Try again later',
      msg: `ticket-writes job ${retried} (ticket zendesk:601) failed, attempt 1 of 15, will retry: zendesk: HTTP 503: ServiceUnavailable: Try again later`,
    });
    // The poll is off here, so nothing would watch the key's expiry: its note follows the reply.
    await until(async () => zendesk.tickets.get('601')!.comments.length === 2, 20_000, 'the retry to write the key');

    // No such ticket in Zendesk: a 404 is permanent, and the use case says what was lost.
    const failed = `write-${await requestKey('602')}`;
    expect(await jobLine(failed, true)).toMatchObject({
      level: 50,
      queue: 'ticket-writes',
      ticket: 'zendesk:602',
      attempt: 1,
      maxAttempts: 15,
      reason: 'zendesk: HTTP 404: RecordNotFound: Not found',
    });
    const shortKey = [...appliance.keys.values()].find((k) => k.externalKey === '602')!.shortKey;
    await until(
      async () => lines().find((l) => l.level === 50 && l.msg.includes(`session key ${shortKey} could not be written to the ticket`)),
      10_000,
      'the use case to log the lost write-back',
    );
  });

  it('logs a session end given up with its lsid', async () => {
    const session = appliance.startSession({ externalKey: 'nobody' });
    appliance.endSession(session.lsid);
    appliance.answerNext(1, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]><session_list>&a;</session_list>');
    const res = await fetch(`${base}/api/v1/sessions/${session.lsid}/resync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    const { jobId } = (await res.json()) as { jobId: string };
    const line = await jobLine(jobId, true);
    expect(line).toMatchObject({ level: 50, queue: 'session-end', lsid: session.lsid, attempt: 1 });
    expect(line.reason).toMatch(/DOCTYPE/);
    expect(line.maxAttempts).toBeGreaterThan(1);
  });
});
