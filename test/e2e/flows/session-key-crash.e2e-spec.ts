import { Queue } from 'bullmq';
import { QUEUES } from '../../../src/jobs/queues';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { Child, freePort, spawnTs, until } from '../../support/child';
import { applianceEnv, zendeskEnv } from '../../support/fake-env';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../../support/redis';

/**
 * Flow 1 with real worker processes: the one writing the public reply (the ticket-writes job) dies after
 * Zendesk applied it and before the worker recorded it (Zendesk holds its answer meanwhile). The next
 * worker takes the job over and must not post the reply a second time.
 */
describe('Flow 1 when the worker dies after Zendesk applied the public reply', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let prefix: string;
  let queue: Queue;
  let writes: Queue;
  const children: Child[] = [];

  beforeEach(async () => {
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    prefix = uniquePrefix('crash');
    queue = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix });
    writes = new Queue(QUEUES.ticketWrites, { connection: { url: REDIS_URL }, prefix });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
    await queue.close();
    await writes.close();
    await deleteKeys(prefix);
    await Promise.all([appliance.stop(), zendesk.stop()]);
  });

  const startWorker = async (env: Record<string, string> = {}) => {
    const port = await freePort();
    const child = spawnTs('src/main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL,
      RSB_REDIS_PREFIX: prefix,
      BT_POLL_INTERVAL_SECONDS: '0',
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
      ...env,
    });
    children.push(child);
    await child.waitForOutput(/listening on/);
    return { child, base: `http://127.0.0.1:${port}` };
  };

  it.each([
    ['killed with kill -9', 'SIGKILL', {}],
    ['abandoned by SIGTERM past RSB_SHUTDOWN_TIMEOUT_MS', 'SIGTERM', { RSB_SHUTDOWN_TIMEOUT_MS: '300' }],
  ] as const)(
    'posts exactly one public reply when the worker is %s',
    async (_how, signal, env) => {
      const ticket = zendesk.createTicket('301');
      zendesk.holdNext(1, 'PUT', /^\/api\/v2\/tickets\/301\.json$/);
      const first = await startWorker(env);
      const res = await zendesk.sendWebhook(`${first.base}/webhooks/zendesk`, {
        action: 'session.requested',
        ticket: { id: '301', subject: 'Printer on fire', requester: { name: 'Casey', email: 'casey@example.com' } },
      });
      expect(res.status).toBe(202);
      const { jobId } = (await res.json()) as { jobId: string };
      await until(async () => zendesk.held.length === 1, 20_000, 'Zendesk to apply the public reply');
      expect(ticket.comments.map((c) => c.public)).toEqual([true]);
      // The key's job finished once it had queued the write-back; the write is what dies.
      expect(await queue.getJobState(jobId)).toBe('completed');

      first.child.process.kill(signal);
      await first.child.exited;

      await startWorker();
      await until(
        async () => (await writes.getJobState(`write-${jobId}`)) === 'completed',
        45_000,
        'the next worker to finish the write-back',
      );

      // With the poll off nothing would watch the key's expiry, so its note is not deferred: it follows the reply.
      expect(ticket.comments.map((c) => c.public)).toEqual([true, false]);
      const shortKey = [...appliance.keys.values()][0].shortKey;
      expect(ticket.comments[0].body).toContain(shortKey);
      expect(ticket.comments[1].body).toContain(shortKey);
      expect(appliance.requests.filter((r) => r.params.action === 'generate_session_key')).toHaveLength(1);
    },
    150_000,
  );
});
