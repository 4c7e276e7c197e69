import Redis from 'ioredis';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeComment, FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp, TEST_API_TOKEN } from '../support/app';
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

/** The writes of one ticket as the fake Zendesk got them, named and timed, for a failure message. */
class WriteLog {
  private readonly at = new WeakMap<FakeComment, number>();
  private readonly t0 = Date.now();
  /** What happened when, relative to t0: the failover's steps. */
  readonly events: string[] = [];

  constructor(private readonly zendesk: FakeZendesk) {
    zendesk.onComment = (_ticket, comment) => this.at.set(comment, Date.now());
  }

  event(what: string): void {
    this.events.push(`${this.time(Date.now())} ${what}`);
  }

  /**
   * Which write a comment is: `reply` (the public reply with the key), else the step its marker names
   * (`internalNote` of a delivery, `note` the transcript, a recording's artifact), with its scope.
   */
  static kind(comment: FakeComment): string {
    if (comment.public) return 'reply';
    const marker = /\[rs-bridge (\S+) (\S+)\]/.exec(comment.body);
    return marker ? `${marker[2]} of ${marker[1]}` : 'unmarked';
  }

  /**
   * Tickets whose writes are not exactly `expected`, each write named, its body's ends and when it landed,
   * followed by what `more` says of the ticket (where its session end stands).
   */
  describe(ids: string[], expected: number, more: Record<string, string> = {}): string {
    return ids
      .map((id) => {
        const comments = this.zendesk.tickets.get(id)!.comments;
        if (comments.length === expected) return undefined;
        const kinds = comments.map((c) => WriteLog.kind(c));
        const doubled = [...new Set(kinds.filter((k, i) => kinds.indexOf(k) !== i))];
        const lines = comments.map((c, i) => {
          const body = c.body.replace(/\s+/g, ' ');
          const shown = body.length > 120 ? `${body.slice(0, 50)} … ${body.slice(-60)}` : body;
          const files = c.attachments.map((a) => a.filename).join(',');
          return `    #${i + 1} ${this.time(this.at.get(c))} ${kinds[i]}${files ? ` [${files}]` : ''}: ${shown}`;
        });
        const extra = more[id] ? `\n    ${more[id]}` : '';
        return `  ticket ${id}: ${comments.length} writes, ${doubled.length ? `doubled: ${doubled.join(', ')}` : 'none doubled'}\n${lines.join('\n')}${extra}`;
      })
      .filter(Boolean)
      .join('\n');
  }

  private time(at?: number): string {
    return at === undefined ? '+?' : `+${((at - this.t0) / 1000).toFixed(3)}s`;
  }
}

/**
 * A stream of lifecycles with a disruption a third of the way in: each ticket's webhook is delivered (again
 * while not accepted, as Zendesk does), its session played once the key is on the ticket. Then every ticket
 * must hold exactly its lifecycle's writes, and nothing may have answered a 5xx other than 503.
 */
async function streamThrough(r: Rig, firstId: number, disrupt: (log: WriteLog) => Promise<void>): Promise<void> {
  const TICKETS = 30;
  const log = new WriteLog(r.zendesk);
  const statuses: number[] = [];
  const ids = Array.from({ length: TICKETS }, (_, i) => String(firstId + i));
  for (const id of ids) r.zendesk.createTicket(id);
  const ended = new Set<string>();
  const lsids = new Map<string, string>();
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
        lsids.set(id, r.appliance.playSession(id).lsid);
      }
  };

  let disruption: Promise<void> | undefined;
  for (const [i, id] of ids.entries()) {
    if (i === TICKETS / 3) disruption = disrupt(log);
    await deliver(id);
    endSessions();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await disruption;
  const counts = () => ids.map((id) => r.zendesk.tickets.get(id)!.comments.length);
  /** Where a ticket's session end stands: the appliance's event deliveries, and the bridge's view of it. */
  const standing = async (id: string): Promise<string> => {
    const lsid = lsids.get(id);
    const events = r.appliance.outboundDeliveries.filter((d) => d.lsid === lsid).map((d) => `${d.event}:${d.status}`);
    const view = await fetch(`${r.sut.url}/api/v1/tickets/zendesk/${id}/sessions`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    })
      .then(async (res) => `${res.status} ${await res.text()}`)
      .catch((error: Error) => error.message);
    return `session ${lsid ?? 'not played'}; events ${events.join(',') || 'none'}; sessions view ${view.slice(0, 1500)}`;
  };
  const failure = async (why: string) => {
    const more: Record<string, string> = {};
    for (const id of ids) if (r.zendesk.tickets.get(id)!.comments.length !== WRITES_PER_LIFECYCLE) more[id] = await standing(id);
    // Jobs waiting or active that nothing runs (a stuck worker) read differently from jobs that are gone.
    const queues = await fetch(`${r.sut.url}/api/v1/admin/queues`, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } })
      .then(async (res) => `${res.status} ${await res.text()}`)
      .catch((error: Error) => error.message);
    return new Error(
      `${why}: writes per ticket ${counts().join(',')}\n${log.describe(ids, WRITES_PER_LIFECYCLE, more)}\n  ${log.events.join('; ')}\n  webhook answers ${statuses.join(',')}\n  queues ${queues}`,
    );
  };
  await until(
    async () => {
      endSessions();
      return counts().every((n) => n >= WRITES_PER_LIFECYCLE);
    },
    60_000,
    'every lifecycle to reach its ticket',
  ).catch(async (error: Error) => {
    throw await failure(error.message);
  });
  await r.appliance.outboundDrained();
  await new Promise((resolve) => setTimeout(resolve, 2_000));

  if (counts().some((n) => n !== WRITES_PER_LIFECYCLE)) throw await failure(`not exactly ${WRITES_PER_LIFECYCLE} writes a ticket`);
  expect(statuses.filter((s) => s !== 202 && s !== 503)).toEqual([]);
  expect(r.appliance.outboundDeliveries.filter((d) => d.status >= 500 && d.status !== 503)).toEqual([]);
}

describe('Redis Cluster: three masters with a replica each, on loopback', () => {
  let cluster: LocalCluster;
  let r: Rig;

  beforeAll(async () => {
    // A small node timeout, so that a killed master's replica takes over within seconds.
    cluster = await new LocalCluster().start(3, { replicas: true, nodeTimeoutMs: 1_000 });
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

  it('puts every accepted webhook key on its ticket exactly once when the master of its slot is killed', async () => {
    const probe = new Redis({ port: cluster.ports[0], host: '127.0.0.1' });
    const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', `{${r.sut.prefix}}`));
    probe.disconnect();
    const master = await cluster.masterOf(slot);
    const replica = cluster.replicaPorts[cluster.ports.indexOf(master)];
    expect((await readiness(r.sut)).node).toBe(`127.0.0.1:${master}`);

    await streamThrough(r, 9000, async (log) => {
      // Replication on loopback is near instant; under load or a partition a replica lags. Cut off for a
      // moment, the replica misses what its master acknowledges meanwhile, and the kill -9 loses all of it
      // unless the bridge waited for a replica before answering 202 or recording a write.
      log.event(`replica 127.0.0.1:${replica} cut off`);
      await cluster.cutOff(replica, master);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      log.event(`kill -9 of master 127.0.0.1:${master}; replica resumed`);
      cluster.kill(master);
      cluster.resume(replica);
      const askPort = cluster.ports.find((p) => p !== master)!;
      await until(async () => (await cluster.masterOf(slot, askPort)) === replica, 30_000, 'the replica to take over the slot');
      log.event(`replica 127.0.0.1:${replica} serves the slot`);
      // Until the old master is back as the new one's replica, no write can reach a replica: webhooks answer 503.
      await cluster.restart(master);
      log.event(`127.0.0.1:${master} restarted`);
    });

    expect(await cluster.masterOf(slot)).toBe(replica);
    await until(async () => (await readiness(r.sut)).node === `127.0.0.1:${replica}`, 10_000, '/readyz to name the new master');
  }, 180_000);
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

    await streamThrough(r, 8000, async (log) => {
      log.event('SENTINEL FAILOVER');
      await sentinels.failover();
      await until(async () => (await sentinels.currentMaster()) === `127.0.0.1:${sentinels.replicaPort}`, 30_000, 'the new master');
      log.event('the sentinels name the replica master');
    });

    // The sentinels named the replica master; the bridge follows, and /readyz says where it is now.
    const master = await sentinels.currentMaster();
    expect(master).toBe(`127.0.0.1:${sentinels.replicaPort}`);
    await until(async () => (await readiness(r.sut)).node === master, 10_000, '/readyz to name the new master');
  }, 150_000);
});
