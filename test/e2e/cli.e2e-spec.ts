import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp, TEST_API_TOKEN } from '../support/app';
import { freePort, runTs, until } from '../support/child';
import { applianceEnv, zendeskEnv } from '../support/fake-env';
import { REDIS_URL } from '../support/redis';

/** The CLI as an operator runs it (`node dist/cli.js …`; here its source through ts-node), with only the given environment. */
const rsBridge = (args: string[], env: Record<string, string>) => runTs('src/cli.ts', args, env);

describe('The rs-bridge CLI against a running service', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    sut = await startApp({ ...applianceEnv(appliance), BT_POLL_INTERVAL_SECONDS: '0', ...zendeskEnv(zendesk) });
    // What a pod has: the API's token list; the CLI takes the first.
    env = { RSB_API_URL: sut.url, RSB_API_TOKENS: `${TEST_API_TOKEN},another-token-0123456789` };
  });
  afterAll(async () => {
    await sut.close();
    await Promise.all([appliance.stop(), zendesk.stop()]);
  });

  it('explains itself and refuses bad usage with exit code 2', async () => {
    const help = await rsBridge(['--help'], env);
    expect(help.code).toBe(0);
    for (const command of ['doctor', 'links <system> <ticket>', 'failed [queue]', 'retry <queue> <jobId|--all>', 'resync <lsid>'])
      expect(help.stdout).toContain(command);
    expect((await rsBridge([], env)).code).toBe(2);
    const unknown = await rsBridge(['frobnicate'], env);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('Unknown command frobnicate')]);
    expect((await rsBridge(['retry', 'ticket-events'], env)).code).toBe(2);
    expect((await rsBridge(['failed', '--bogus'], env)).code).toBe(2);
  });

  it('exits 3 when the API cannot be reached, 1 when the token is refused', async () => {
    const down = await rsBridge(['failed'], { ...env, RSB_API_URL: `http://127.0.0.1:${await freePort()}` });
    expect([down.code, down.stderr]).toEqual([3, expect.stringContaining('Cannot reach rs-bridge')]);
    const refused = await rsBridge(['failed'], { RSB_API_URL: sut.url, RSB_API_TOKEN: 'not-the-token-0123456789' });
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('401 unauthorized')]);
  });

  it('lists failed jobs (exit 1 while there are some), retries one and all, shows links, queues a resync', async () => {
    // Ticket 904 does not exist yet: the key is made, and its write-back gets Zendesk's 404 and gives up.
    const sent = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, {
      action: 'session.requested',
      ticket: { id: '904', subject: 'CLI' },
    });
    const jobId = `write-${((await sent.json()) as { jobId: string }).jobId}`;
    const failed = await until(
      async () => {
        const run = await rsBridge(['failed', '--json'], env);
        const jobs = (JSON.parse(run.stdout) as { queues: Record<string, { id: string; failedReason: string }[]> }).queues['ticket-writes'];
        return jobs?.some((j) => j.id === jobId) && { run, jobs };
      },
      20_000,
      'the failed job in the CLI',
    );
    expect(failed.run.code).toBe(1);
    expect(failed.jobs.find((j) => j.id === jobId)!.failedReason).toContain('404');
    const human = await rsBridge(['failed', 'ticket-writes'], env);
    expect([human.code, human.stdout]).toEqual([1, expect.stringContaining(`ticket-writes  ${jobId}  write-back`)]);

    zendesk.createTicket('904');
    const retried = await rsBridge(['retry', 'ticket-writes', jobId], env);
    expect([retried.code, retried.stdout]).toEqual([0, `Job ${jobId} of ticket-writes retried.\n`]);
    await until(async () => zendesk.tickets.get('904')!.comments.length >= 2, 10_000, 'the retried job to write');
    const again = await rsBridge(['retry', 'ticket-writes', jobId], env);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('404 not_found')]);
    const all = await rsBridge(['retry', 'ticket-writes', '--all', '--json'], env);
    expect([all.code, JSON.parse(all.stdout)]).toEqual([0, { queue: 'ticket-writes', retried: 0 }]);
    const none = await rsBridge(['failed', 'ticket-writes'], env);
    expect([none.code, none.stdout]).toEqual([0, 'No failed jobs in ticket-writes.\n']);

    const links = await rsBridge(['links', 'zendesk', '904'], env);
    expect([links.code, links.stdout]).toEqual([0, expect.stringMatching(/ 904 {2}key \d{7}/)]);
    const resync = await rsBridge(['resync', 'c3e1a9d04b2f4a6e'], env);
    expect([resync.code, resync.stdout]).toEqual([0, expect.stringMatching(/^Session c3e1a9d04b2f4a6e queued for resync \(job .+\)\.\n$/)]);
    const bad = await rsBridge(['resync', 'not a session!'], env);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining('400 validation_failed')]);
  });

  it('runs the doctor with the environment it is given, exit code by the checks', async () => {
    const run = await rsBridge(['doctor', '--json'], {
      REDIS_URL,
      RSB_REDIS_PREFIX: sut.prefix,
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
    });
    const report = JSON.parse(run.stdout) as { ok: boolean; checks: { area: string; name: string; ok: boolean }[] };
    expect(report.checks).toEqual(expect.arrayContaining([expect.objectContaining({ area: 'Redis', name: 'reachable', ok: true })]));
    expect(report.checks.map((c) => c.area)).toEqual(expect.arrayContaining(['BeyondTrust', 'Zendesk']));
    expect(run.code).toBe(report.checks.every((c) => c.ok) ? 0 : 1);
    expect(report.ok).toBe(run.code === 0);
  });
});
