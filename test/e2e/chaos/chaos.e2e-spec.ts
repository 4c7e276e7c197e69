import { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { TEST_API_TOKEN } from '../../support/app';
import { Child, freePort, spawnTs, until } from '../../support/child';
import { applianceEnv, zendeskEnv } from '../../support/fake-env';
import { uniquePrefix } from '../../support/redis';
import { RedisServer } from '../../support/redis-server';

/**
 * The chaos suite: rs-bridge as real processes on a private Redis (AOF, appendfsync always) and the
 * fakes, with faults injected from outside — kill -9 of the worker mid-write and mid-transfer, Redis
 * killed and restarted under load, the ticket system gone for 30 s, an appliance that trickles. Each
 * scenario prints expected / written / lost / duplicated and must show 0 lost, 0 duplicated and every
 * queue drained. The harness plays the orchestrator: a process that exits is started again.
 */

const EVENTS_TOKEN = 'chaos-events-token-0123456789';
const QUEUES = ['ticket-events', 'session-end', 'recordings'];

interface Bridge {
  api: Supervised;
  worker: Supervised;
  prefix: string;
  logs(): string;
  stop(): Promise<void>;
}

interface Tally {
  scenario: string;
  expected: number;
  written: number;
  lost: number;
  duplicated: number;
  drained: boolean;
  seconds: number;
  note?: string;
}

/** One rs-bridge process (role all) under a supervisor that restarts it when it dies, as Kubernetes would. */
class Supervised {
  child?: Child;
  restarts = 0;
  private stopped = false;
  url = '';

  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<this> {
    const port = Number(this.env.PORT ?? (await freePort()));
    this.env.PORT = String(port);
    this.url = `http://127.0.0.1:${port}`;
    this.spawn();
    await until(
      async () => (await fetch(`${this.url}/healthz`).catch(() => undefined))?.ok,
      60_000,
      `rs-bridge on ${port} to answer /healthz`,
    );
    return this;
  }

  private spawn(): void {
    const child = spawnTs('src/main.ts', this.env);
    this.child = child;
    void child.exited.then(() => {
      if (this.stopped || this.child !== child) return;
      this.restarts += 1;
      setTimeout(() => !this.stopped && this.spawn(), 300);
    });
  }

  /** kill -9: no shutdown hook runs; whatever the process was doing is cut where it stood. */
  kill9(): void {
    this.child?.process.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
    child.process.kill('SIGKILL');
    await child.exited;
  }

  logs(): string {
    return `${this.child?.stdout() ?? ''}${this.child?.stderr() ?? ''}`;
  }
}

const sha256 = (lsid: string, kind: string, size: number): string => {
  const hash = createHash('sha256');
  for (let offset = 0; offset < size; offset += 1 << 20)
    hash.update(FakeAppliance.recordingBytes(lsid, kind, 0, offset, Math.min(1 << 20, size - offset)));
  return hash.digest('hex');
};

describe('chaos: faults injected from outside, nothing lost, nothing twice', () => {
  const redis = new RedisServer();
  const appliance = new FakeAppliance();
  const zendesk = new FakeZendesk();
  const tallies: Tally[] = [];
  let nextTicket = 880_000;

  beforeAll(async () => {
    await redis.start();
    await appliance.start();
    await zendesk.start();
  }, 30_000);

  afterAll(async () => {
    // The figures a reader of the CI log looks for.
    console.log(
      ['chaos suite: expected / written / lost / duplicated / drained / seconds', ...tallies.map((t) => `  ${format(t)}`)].join('\n'),
    );
    await zendesk.stop();
    await appliance.stop();
    await redis.stop();
  });

  const format = (t: Tally) =>
    `${t.scenario}: expected ${t.expected}, written ${t.written}, lost ${t.lost}, duplicated ${t.duplicated}, ` +
    `drained ${t.drained ? 'yes' : 'NO'}, ${t.seconds.toFixed(1)} s${t.note ? ` (${t.note})` : ''}`;

  /** An api and a worker process, as the chart deploys them, under the orchestrator's supervision. */
  async function bridge(extra: Record<string, string> = {}): Promise<Bridge> {
    const prefix = uniquePrefix('chaos');
    const env = (role: string) => ({
      REDIS_URL: redis.url,
      RSB_REDIS_PREFIX: prefix,
      RSB_ROLE: role,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RSB_API_TOKENS: TEST_API_TOKEN,
      BT_EVENTS_TOKEN: EVENTS_TOKEN,
      BT_POLL_INTERVAL_SECONDS: '0',
      BT_TIMEOUT_MS: '3000',
      RSB_SHUTDOWN_TIMEOUT_MS: '1000',
      RSB_DRAIN_SECONDS: '0',
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
      ...extra,
    });
    const [api, worker] = await Promise.all([new Supervised(env('api')).start(), new Supervised(env('worker')).start()]);
    return {
      api,
      worker,
      prefix,
      logs: () => `--- api\n${api.logs().slice(-3000)}\n--- worker\n${worker.logs().slice(-5000)}`,
      stop: async () => void (await Promise.all([api.stop(), worker.stop()])),
    };
  }

  async function drained(prefix: string): Promise<boolean> {
    for (const name of QUEUES) {
      const queue = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1 }, prefix });
      try {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed');
        if (Object.values(counts).some((n) => n > 0)) return false;
      } finally {
        await queue.close();
      }
    }
    return true;
  }

  async function settle(prefix: string, done: () => boolean, timeoutMs: number): Promise<boolean> {
    await until(async () => done() && (await drained(prefix)), timeoutMs, 'every write and a drained queue').catch(() => undefined);
    // A write that would be repeated comes right after the first: give it the time to show.
    await new Promise((r) => setTimeout(r, 1_500));
    return drained(prefix);
  }

  const publicReplies = (id: string) => zendesk.tickets.get(id)?.comments.filter((c) => c.public).length ?? 0;

  function flowOneTally(scenario: string, ids: string[], started: number, isDrained: boolean, note?: string): Tally {
    const written = ids.filter((id) => publicReplies(id) > 0).length;
    const duplicated = ids.reduce((sum, id) => sum + Math.max(0, publicReplies(id) - 1), 0);
    return {
      scenario,
      expected: ids.length,
      written,
      lost: ids.length - written,
      duplicated,
      drained: isDrained,
      seconds: (Date.now() - started) / 1000,
      note,
    };
  }

  const ticketBody = (id: string) => ({
    action: 'session.requested',
    ticket: { id, subject: `Chaos ${id}`, priority: 'normal', requester: { name: 'Casey', email: 'casey@example.com' } },
  });

  function newTickets(count: number): string[] {
    return Array.from({ length: count }, () => zendesk.createTicket(String(nextTicket++)).id);
  }

  function record(tally: Tally, proc: Bridge): void {
    tallies.push(tally);
    console.log(`chaos ${format(tally)}`);
    if (tally.lost || tally.duplicated || !tally.drained) console.log(`rs-bridge's log:\n${proc.logs().slice(-6000)}`);
    expect({ lost: tally.lost, duplicated: tally.duplicated, drained: tally.drained }).toEqual({ lost: 0, duplicated: 0, drained: true });
  }

  it('kill -9 of the worker during flow 1 write: one public reply per ticket', async () => {
    const proc = await bridge();
    const started = Date.now();
    const ids = newTickets(6);
    // Zendesk applies the first public reply and holds its answer: the worker dies knowing nothing of the write.
    zendesk.holdNext(1, 'PUT', /^\/api\/v2\/tickets\/\d+\.json$/);
    const killer = until(async () => zendesk.held.length > 0, 60_000, 'a write Zendesk applied and holds').then(() => {
      proc.worker.kill9();
      zendesk.releaseHeld();
    });
    try {
      for (const id of ids) expect((await zendesk.sendWebhook(`${proc.api.url}/webhooks/zendesk`, ticketBody(id))).status).toBe(202);
      await killer;
      const isDrained = await settle(proc.prefix, () => ids.every((id) => publicReplies(id) > 0), 150_000);
      record(flowOneTally('kill -9 during flow 1 write', ids, started, isDrained, `${proc.worker.restarts} worker restart(s)`), proc);
      expect(proc.worker.restarts).toBeGreaterThanOrEqual(1);
    } finally {
      zendesk.releaseHeld();
      await proc.stop();
    }
  }, 240_000);

  it('kill -9 of the worker during a recording transfer: note and recording once each, intact', async () => {
    const proc = await bridge();
    const started = Date.now();
    appliance.sendOutboundEventsTo(`${proc.api.url}/webhooks/beyondtrust`, EVENTS_TOKEN, 'query');
    appliance.recordingBytesPerSecond = 4 * 1024 * 1024;
    const size = 12 * 1024 * 1024;
    const ids = newTickets(2);
    let killed = false;
    zendesk.onUploadStart = (filename) => {
      if (killed || !/-session-0\./.test(filename)) return;
      killed = true;
      setTimeout(() => proc.worker.kill9(), 800);
    };
    const sessions = ids.map((id) => {
      const s = appliance.startSession({ externalKey: id });
      appliance.joinRep(s.lsid, '2');
      appliance.chat(s.lsid, 'customer', `Help with ${id}`);
      appliance.addRecording(s.lsid, 'session', size);
      appliance.endSession(s.lsid);
      return { ticket: id, lsid: s.lsid };
    });
    const notes = (t: string, lsid: string) =>
      zendesk.tickets.get(t)!.comments.filter((c) => c.body.includes(`[rs-bridge ${lsid} note.1]`)).length;
    const recordings = (t: string, lsid: string) =>
      zendesk.tickets
        .get(t)!
        .comments.flatMap((c) => c.attachments)
        .filter((a) => a.filename.startsWith(`session-${lsid}-session`));
    try {
      const isDrained = await settle(
        proc.prefix,
        () => sessions.every((s) => notes(s.ticket, s.lsid) > 0 && recordings(s.ticket, s.lsid).length > 0),
        180_000,
      );
      const expected = sessions.length * 2;
      const seen = sessions.flatMap((s) => [notes(s.ticket, s.lsid), recordings(s.ticket, s.lsid).length]);
      const written = seen.filter((n) => n > 0).length;
      const intact = sessions.every((s) =>
        recordings(s.ticket, s.lsid).every((a) => a.size === size && a.sha256 === sha256(s.lsid, 'SupportSessionRecording', size)),
      );
      record(
        {
          scenario: 'kill -9 during a recording transfer',
          expected,
          written,
          lost: expected - written,
          duplicated: seen.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
          drained: isDrained,
          seconds: (Date.now() - started) / 1000,
          note: `${proc.worker.restarts} worker restart(s)`,
        },
        proc,
      );
      expect(killed).toBe(true);
      expect(intact).toBe(true);
    } finally {
      zendesk.onUploadStart = undefined;
      appliance.recordingBytesPerSecond = 0;
      await proc.stop();
    }
  }, 300_000);

  it('kill -9 after the recordings were uploaded, before the note: the kept tokens ride on the retried note, nothing sent twice', async () => {
    const proc = await bridge();
    const started = Date.now();
    appliance.sendOutboundEventsTo(`${proc.api.url}/webhooks/beyondtrust`, EVENTS_TOKEN, 'query');
    const [id] = newTickets(1);
    let killed = false;
    // On Zendesk the recordings are uploaded before the note; the transcript's upload comes last, inside the
    // note's write: the worker dies there, with the recordings' tokens and the note's plan kept in Redis.
    zendesk.onUploadStart = (filename) => {
      if (killed || !filename.endsWith('-transcript.html')) return;
      killed = true;
      proc.worker.kill9();
    };
    const s = appliance.startSession({ externalKey: id });
    appliance.joinRep(s.lsid, '2');
    appliance.chat(s.lsid, 'customer', `Help with ${id}`);
    appliance.addRecording(s.lsid, 'session', 300_000);
    appliance.addRecording(s.lsid, 'showMyScreen', 200_000);
    appliance.endSession(s.lsid);
    const ticket = zendesk.tickets.get(id)!;
    const notes = () => ticket.comments.filter((c) => c.body.includes(`[rs-bridge ${s.lsid} note.1]`));
    try {
      const isDrained = await settle(proc.prefix, () => notes().length > 0, 120_000);
      const files = notes().flatMap((c) => c.attachments.map((a) => a.filename));
      const uploads = (kind: string) =>
        zendesk.requests.filter((r) => r.method === 'POST' && r.path.includes(`session-${s.lsid}-${kind}-0`)).length;
      const downloads = appliance.requests.filter(
        (r) => r.params.lsid === s.lsid && /^(SupportSessionRecording|ShowMyScreenRecording)$/.test(r.params.generate_report ?? ''),
      ).length;
      const seen = [notes().length, ...['session', 'showMyScreen'].map((kind) => files.filter((f) => f.includes(`-${kind}-0.`)).length)];
      record(
        {
          scenario: 'kill -9 between the uploads and the note',
          expected: 3,
          written: seen.filter((n) => n > 0).length,
          lost: seen.filter((n) => n === 0).length,
          duplicated: seen.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
          drained: isDrained,
          seconds: (Date.now() - started) / 1000,
          note: `${proc.worker.restarts} worker restart(s)`,
        },
        proc,
      );
      expect(killed).toBe(true);
      // One ticket update for the session, and each recording downloaded and uploaded once: the retry reused the tokens.
      expect(ticket.comments).toHaveLength(1);
      expect({ session: uploads('session'), showMyScreen: uploads('showMyScreen'), downloads }).toEqual({
        session: 1,
        showMyScreen: 1,
        downloads: 2,
      });
    } finally {
      zendesk.onUploadStart = undefined;
      await proc.stop();
    }
  }, 240_000);

  it('Redis killed -9 and restarted on its AOF under load: every accepted webhook once, refusals are 503', async () => {
    const proc = await bridge();
    const started = Date.now();
    const ids = newTickets(40);
    const statuses = new Map<string, number>();
    const sending = ids.map(async (id, i) => {
      await new Promise((r) => setTimeout(r, i * 75));
      const response = await zendesk.sendWebhook(`${proc.api.url}/webhooks/zendesk`, ticketBody(id)).catch(() => undefined);
      statuses.set(id, response?.status ?? 0);
    });
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      await redis.kill();
      await new Promise((r) => setTimeout(r, 1_500));
      await redis.restart();
      await Promise.all(sending);
      const accepted = ids.filter((id) => statuses.get(id) === 202);
      const refused = ids.filter((id) => statuses.get(id) !== 202);
      const isDrained = await settle(proc.prefix, () => accepted.every((id) => publicReplies(id) > 0), 150_000);
      record(
        flowOneTally('Redis kill -9 + restart under load', accepted, started, isDrained, `${refused.length} refused while Redis was away`),
        proc,
      );
      // Refused means "send again": a 503, never another error and never a refused connection.
      expect(refused.map((id) => statuses.get(id)).filter((s) => s !== 503)).toEqual([]);
      expect(refused.length).toBeGreaterThan(0);
      // What was refused was not half-done either.
      expect(refused.filter((id) => publicReplies(id) > 0)).toEqual([]);
    } finally {
      await proc.stop();
    }
  }, 240_000);

  it('the ticket system down for 30 s: everything lands once when it is back', async () => {
    const proc = await bridge();
    const started = Date.now();
    appliance.sendOutboundEventsTo(`${proc.api.url}/webhooks/beyondtrust`, EVENTS_TOKEN, 'query');
    const ids = newTickets(4);
    const ended = newTickets(2);
    zendesk.down = true;
    try {
      for (const id of ids) {
        // The webhook itself still arrives (Zendesk's outage is of its API, the fake signs locally).
        expect((await zendesk.sendWebhook(`${proc.api.url}/webhooks/zendesk`, ticketBody(id))).status).toBe(202);
      }
      const sessions = ended.map((id) => {
        const s = appliance.startSession({ externalKey: id });
        appliance.joinRep(s.lsid, '2');
        appliance.endSession(s.lsid);
        return { ticket: id, lsid: s.lsid };
      });
      await new Promise((r) => setTimeout(r, 30_000));
      zendesk.down = false;
      const notes = (t: string, lsid: string) =>
        zendesk.tickets.get(t)!.comments.filter((c) => c.body.includes(`[rs-bridge ${lsid} note.1]`)).length;
      const isDrained = await settle(
        proc.prefix,
        () => ids.every((id) => publicReplies(id) > 0) && sessions.every((s) => notes(s.ticket, s.lsid) > 0),
        180_000,
      );
      const replies = flowOneTally('ticket system down 30 s', ids, started, isDrained);
      const noteCounts = sessions.map((s) => notes(s.ticket, s.lsid));
      record(
        {
          ...replies,
          expected: replies.expected + sessions.length,
          written: replies.written + noteCounts.filter((n) => n > 0).length,
          lost: replies.lost + noteCounts.filter((n) => n === 0).length,
          duplicated: replies.duplicated + noteCounts.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
        },
        proc,
      );
    } finally {
      zendesk.down = false;
      await proc.stop();
    }
  }, 300_000);

  it('a trickling appliance holds no queue: the other tickets get their keys at once, the slow one after its deadline', async () => {
    const proc = await bridge({ BT_TIMEOUT_MS: '2000' });
    const started = Date.now();
    const ids = newTickets(5);
    const repliedAt = new Map<string, number>();
    zendesk.onComment = (id, comment) => {
      if (comment.public && !repliedAt.has(id)) repliedAt.set(id, Date.now());
    };
    // The first appliance answer trickles a byte every 500 ms: minutes for one XML document.
    appliance.trickleNext(1, 500);
    try {
      const sentAt = Date.now();
      for (const id of ids) expect((await zendesk.sendWebhook(`${proc.api.url}/webhooks/zendesk`, ticketBody(id))).status).toBe(202);
      const isDrained = await settle(proc.prefix, () => ids.every((id) => publicReplies(id) > 0), 120_000);
      const waits = ids.map((id) => ((repliedAt.get(id) ?? Infinity) - sentAt) / 1000).sort((a, b) => a - b);
      record(
        flowOneTally('trickling appliance', ids, started, isDrained, `replies after ${waits.map((w) => w.toFixed(1)).join(', ')} s`),
        proc,
      );
      // All but the one caught by the trickle: well within the trickled answer's deadline and retry.
      expect(waits[ids.length - 2]).toBeLessThan(10);
    } finally {
      zendesk.onComment = undefined;
      appliance.trickleNext(0);
      await proc.stop();
    }
  }, 240_000);
});
