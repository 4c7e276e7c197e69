import Redis from 'ioredis';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp } from '../support/app';
import { until } from '../support/child';
import { applianceEnv, zendeskEnv } from '../support/fake-env';
import { LocalCluster, LocalSentinels } from '../support/redis-topologies';

const EVENTS_TOKEN = 'bt-events-token-0123456789';
/** Per ticket: the key's public reply and internal note, then the session's transcript note carrying its recording (issue 23). */
const WRITES_PER_LIFECYCLE = 3;

const ticketBody = (id: string) => ({
  action: 'session.requested',
  ticket: { id, subject: 'Printer on fire', requester: { name: 'Casey Customer', email: 'casey@example.com' } },
});

interface Rig {
  appliance: FakeAppliance;
  zendesk: FakeZendesk;
  sut: RunningApp;
}

/** The bridge in this process against the fakes, reaching Redis the way `redis` says (REDIS_URL unset). */
async function rig(redis: Record<string, string>): Promise<Rig> {
  const appliance = await new FakeAppliance().start();
  const zendesk = await new FakeZendesk().start();
  // The stream is about durability across a failover, not pacing (test/e2e/tickets/ticket-pacing.e2e-spec.ts):
  // neither Zendesk's budget nor ours may hold the writes back past the test's wait.
  zendesk.updateTicketLimitPerMinute = 100_000;
  const sut = await startApp({
    ZENDESK_RATE_LIMIT_PER_MINUTE: '100000',
    REDIS_URL: '',
    ...redis,
    ...applianceEnv(appliance),
    ...zendeskEnv(zendesk),
    BT_EVENTS_TOKEN: EVENTS_TOKEN,
    BT_EVENTS_ALLOWED_IPS: '127.0.0.1,::1',
    BT_POLL_INTERVAL_SECONDS: '0',
  });
  appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN);
  return { appliance, zendesk, sut };
}

const readiness = async (sut: RunningApp) =>
  ((await (await fetch(`${sut.url}/readyz`)).json()) as { details: { redis: { status: string; mode: string; node?: string } } }).details
    .redis;

describe('Redis Cluster: three masters on loopback', () => {
  let cluster: LocalCluster;
  let r: Rig;

  beforeAll(async () => {
    cluster = await new LocalCluster().start();
    r = await rig({ REDIS_CLUSTER_NODES: cluster.nodes });
  }, 60_000);
  afterAll(async () => {
    await r?.sut.close();
    await Promise.all([r?.appliance.stop(), r?.zendesk.stop()]);
    await cluster?.stop();
  });

  it('runs flow 1 and a session end through the cluster, every key of the deployment in one slot', async () => {
    const ticket = r.zendesk.createTicket('7001');
    expect((await r.zendesk.sendWebhook(`${r.sut.url}/webhooks/zendesk`, ticketBody('7001'))).status).toBe(202);
    await until(async () => ticket.comments.length === 2, 20_000, 'the key on the ticket');
    r.appliance.playSession('7001');
    await until(async () => ticket.comments.length === WRITES_PER_LIFECYCLE, 30_000, 'the transcript and the recording');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(ticket.comments).toHaveLength(WRITES_PER_LIFECYCLE);

    // The prefix was given without a hash tag: the bridge put one around it, and BullMQ's keys, the
    // appliance's token and rate limiter and our stores all hash to the one slot of that tag.
    const client = new Redis.Cluster(cluster.nodes.split(',').map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
    try {
      await new Promise((resolve) => client.once('ready', resolve));
      const tag = `{${r.sut.prefix}}`;
      const keys: string[] = [];
      for (const node of client.nodes('master')) keys.push(...(await node.keys(`${tag}*`)));
      expect(keys.length).toBeGreaterThan(10);
      expect(keys.some((k) => k.startsWith(`${tag}:bt:`))).toBe(true);
      expect(keys.some((k) => k.includes(':ticket-events:'))).toBe(true);
      const slots = new Set(await Promise.all(keys.map((k) => client.cluster('KEYSLOT', k))));
      expect(slots.size).toBe(1);
    } finally {
      client.disconnect();
    }

    const redis = await readiness(r.sut);
    expect(redis).toMatchObject({ status: 'up', mode: 'cluster' });
    expect(cluster.nodes.split(',')).toContain(redis.node);
  }, 60_000);
});

describe('Redis Sentinel: a failover in the middle of a stream of webhooks and session ends', () => {
  let sentinels: LocalSentinels;
  let r: Rig;

  beforeAll(async () => {
    sentinels = await new LocalSentinels().start();
    r = await rig({ REDIS_SENTINELS: sentinels.sentinels, REDIS_SENTINEL_MASTER: sentinels.master });
  }, 60_000);
  afterAll(async () => {
    await r?.sut.close();
    await Promise.all([r?.appliance.stop(), r?.zendesk.stop()]);
    await sentinels?.stop();
  });

  it('puts every accepted webhook key on its ticket exactly once, answering nothing worse than 503 meanwhile', async () => {
    const before = await readiness(r.sut);
    expect(before).toMatchObject({ status: 'up', mode: 'sentinel', node: `127.0.0.1:${sentinels.masterPort}` });

    const TICKETS = 30;
    const statuses: number[] = [];
    const ids = Array.from({ length: TICKETS }, (_, i) => String(8000 + i));
    for (const id of ids) r.zendesk.createTicket(id);
    const ended = new Set<string>();
    /** As Zendesk does: a delivery that is not accepted is sent again, with the same invocation id. */
    const deliver = async (id: string) => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
        const res = await r.zendesk.sendWebhook(`${r.sut.url}/webhooks/zendesk`, ticketBody(id), { invocationId: `inv-${id}` });
        statuses.push(res.status);
        if (res.status === 202) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`ticket ${id}: no delivery accepted within 60 s`);
    };
    /** The customer uses the key as soon as it is on the ticket: the session plays and ends. */
    const endSessions = () => {
      for (const id of ids)
        if (!ended.has(id) && (r.zendesk.tickets.get(id)?.comments.length ?? 0) >= 2) {
          ended.add(id);
          r.appliance.playSession(id);
        }
    };

    let failover: Promise<void> | undefined;
    for (const [i, id] of ids.entries()) {
      if (i === TICKETS / 3) failover = sentinels.failover();
      await deliver(id);
      endSessions();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await failover;
    const counts = () => ids.map((id) => r.zendesk.tickets.get(id)!.comments.length);
    await until(
      async () => {
        endSessions();
        return counts().every((n) => n >= WRITES_PER_LIFECYCLE);
      },
      60_000,
      'every lifecycle to reach its ticket',
    ).catch((error: Error) => {
      const short = ids.filter((id) => r.zendesk.tickets.get(id)!.comments.length < WRITES_PER_LIFECYCLE);
      const seen = short.map(
        (id) =>
          `${id}: ${r.zendesk.tickets
            .get(id)!
            .comments.map((c) => c.body.slice(-80))
            .join(' | ')}`,
      );
      throw new Error(
        `${error.message}: writes per ticket ${counts().join(',')}; webhook answers ${statuses.join(',')}; ${seen.join('; ')}`,
      );
    });
    await r.appliance.outboundDrained();
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    expect(counts()).toEqual(ids.map(() => WRITES_PER_LIFECYCLE));
    expect(statuses.filter((s) => s !== 202 && s !== 503)).toEqual([]);
    expect(r.appliance.outboundDeliveries.filter((d) => d.status >= 500 && d.status !== 503)).toEqual([]);

    // The sentinels named the replica master; the bridge follows, and /readyz says where it is now.
    const master = await sentinels.currentMaster();
    expect(master).toBe(`127.0.0.1:${sentinels.replicaPort}`);
    await until(async () => (await readiness(r.sut)).node === master, 10_000, '/readyz to name the new master');
  }, 150_000);
});
