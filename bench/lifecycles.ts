/**
 * The whole-lifecycle harness behind `npm run soak` (issue 20) and `npm run bench:capacity` (issues 20 and
 * 23): rs-bridge as 2 api + 3 worker processes (node dist/main.js; or apps in this process when a bench
 * needs a setting no variable offers), real Redis, and the fake appliance and fake Zendesk in this process.
 *
 * A lifecycle: a signed Zendesk webhook → the key's public reply on the ticket → the customer uses the key:
 * the fake appliance plays a session on it (a representative joins, both chat, one session recording) and
 * ends it, optionally with an unrelated session (no ticket behind its external key) ending beside it →
 * the transcript and the recording on the ticket. Options: workers kill -9'd and restarted (the soak), the
 * fake Zendesk's Update Ticket limit and the bridge's ZENDESK_RATE_LIMIT_PER_MINUTE, the appliance's limits
 * and the length of its "hour", a backlog of sessions ending at the start (tickets behind them, no key
 * asked), webhooks sent as a burst, a few at a time, or at a steady rate.
 *
 * Counts what each ticket got, by artifact (key reply, transcript, recording: exactly one each), and any
 * write that landed twice (two identical comments); counts only once no queue of the catalogue
 * (QUEUE_NAMES) has a job waiting, running or delayed, so a write waiting out a back-off is not lost.
 * Measures appliance and Zendesk calls by kind, key latency (to the key made at the appliance, and to the
 * reply on the ticket), end → transcript, wall time against the floor of each budget.
 */
import { Job, Queue } from 'bullmq';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { QUEUE_NAMES } from '../src/jobs/queues';
import { FakeAppliance } from '../test/fakes/beyondtrust/fake-appliance';
import { FakeComment, FakeZendesk } from '../test/fakes/zendesk/fake-zendesk';
import { applianceEnv, zendeskEnv } from '../test/support/fake-env';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../test/support/redis';
import { percentile, sleep, startBridge } from './lib';

const EVENTS_TOKEN = 'lifecycle-events-token-0123456789';
/** Zendesk's documented Update Ticket limit per account. */
export const ZENDESK_DOCUMENTED_PER_MINUTE = 100;
/** What a bridge "without" a Zendesk budget is set to (the variable takes at most 100,000). */
const UNPACED_PER_MINUTE = 100_000;

export interface LifecycleOptions {
  lifecycles: number;
  /** Processes by role; default 2 api + 3 worker. */
  topology?: { api: number; worker: number } | { all: number };
  /**
   * Run the bridge as Nest apps in this process (from src/) instead of child processes, so a setting with
   * no variable can be given: `btHourMs`. No kills in-process.
   */
  inProcess?: boolean;
  /** The appliance limiter's "hour" (in-process only); the fake appliance gets the same. */
  btHourMs?: number;
  /** Lifecycles whose webhook is out and whose key has not reached the ticket yet; default all (a burst). */
  concurrency?: number;
  /** Webhooks sent at this steady rate instead (lifecycles per second), after the backlog. */
  webhooksPerSecond?: number;
  /** Sessions on tickets of their own (no key asked: the external key is the ticket number) ending at the start. */
  backlogSessions?: number;
  /** A random worker is killed (SIGKILL) and restarted this often; 0 (default): never. */
  killEveryMs?: number;
  /** One session with no ticket behind it ends beside each lifecycle's. */
  unrelatedSessions?: boolean;
  appliance?: { perSecond?: number; perHour?: number };
  /** The fake Zendesk's Update Ticket limit a minute; 0 (default): off. */
  zendeskLimitPerMinute?: number;
  /** The bridge's ZENDESK_RATE_LIMIT_PER_MINUTE; 0 (default): unpaced. */
  bridgeZendeskPerMinute?: number;
  recordingBytes?: number;
  /** Give up waiting for the last lifecycles, and then for the queues to drain, after this long. */
  settleTimeoutMs?: number;
  /** Extra variables for every bridge process. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

/** What each ticket must get exactly once. */
export const ARTIFACTS = ['key reply', 'transcript', 'recording'] as const;
export type Artifact = (typeof ARTIFACTS)[number];
export interface Count {
  expected: number;
  seen: number;
  lost: number;
  duplicated: number;
}

export interface LifecycleResult {
  lifecycles: number;
  processes: string;
  backlogSessions: number;
  /** By artifact; `other duplicates`: identical comments not counted above (e.g. the key's internal note twice). */
  writes: Record<Artifact, Count> & { 'other duplicates': number };
  /** Comments on the lifecycle tickets by kind, per lifecycle. */
  commentsPerLifecycle: Record<string, number>;
  /** perLifecycle and lifecyclesPerHour count backlog sessions as lifecycles (tickets). */
  appliance: {
    requests: Record<string, number>;
    perLifecycle: Record<string, number>;
    http429: number;
    /** Report requests per session that ended (lifecycle, unrelated and backlog sessions). */
    reportsPerEndedSession: number;
  };
  zendesk: { calls: Record<string, number>; perLifecycle: Record<string, number>; http429: number };
  lifecyclesPerHour: { appliance: number; zendesk: number | null };
  /** ms, from the webhook sent. */
  keyMadeAtApplianceMs: { p50: number; p99: number; max: number };
  keyOnTicketMs: { p50: number; p99: number; max: number };
  /** What the keys alone need at the appliance's per-second limit, ms. */
  keysAloneMs: number;
  endToTranscriptMs: { p50: number; p99: number };
  /** First webhook to the last lifecycle complete. */
  wallSeconds: number;
  floorSeconds: { appliance: number; zendesk: number };
  binding: 'appliance' | 'zendesk';
  /** wall / binding floor (1.0: at the floor). */
  wallOverFloor: number;
  workerKills: number;
  webhookAnswers: Record<string, number>;
  /** The appliance's outbound events by the status the bridge answered (a non-200 holds back every later one). */
  outboundEventAnswers: Record<string, number>;
  /** Per 5-second slice of the run: keys asked, their latency to the appliance, backlog still to land. */
  timeline: {
    atS: number;
    webhooks: number;
    keyMadeP50Ms: number;
    keyMadeMaxMs: number;
    keysMade: number;
    lifecyclesComplete: number;
    backlogLeft: number;
    appliance: number;
    appliance429: number;
  }[];
  /** Every queue of the catalogue when counting: jobs by state (non-zero waiting/active/delayed: gave up waiting). */
  queues: Record<string, Record<string, number>>;
  /** For each lifecycle with an artifact missing or doubled: its jobs still in Redis. */
  suspects: { ticket: string; lsid?: string; comments: number; jobs: JobTrace[] }[];
}

interface JobTrace {
  queue: string;
  id?: string;
  name: string;
  state: string;
  attemptsMade: number;
  failedReason?: string;
  delay?: number;
  dueInMs?: number;
}

interface Proc {
  role: 'api' | 'worker' | 'all';
  port: number;
  url: string;
  stop(kill?: boolean): Promise<void>;
  alive(): boolean;
}

const UNSETTLED = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/** The appliance request's kind: the command action, the report, or the path. */
export const applianceKind = (r: { path: string; params: Record<string, string> }): string =>
  r.params.action ?? (r.params.generate_report ? `report ${r.params.generate_report}` : r.path.replace(/\?.*$/, ''));

/** Zendesk calls: Update Ticket (`update`), uploads, and reads by path. */
export const zendeskKind = (r: { method: string; path: string }): string =>
  r.method === 'PUT' && /^\/api\/v2\/tickets\/\d+\.json/.test(r.path)
    ? 'update'
    : r.path.startsWith('/api/v2/uploads')
      ? 'upload'
      : `${r.method} ${r.path.split('?')[0].replace(/\d+/g, ':id')}`;

const tally = (keys: string[]) => keys.reduce<Record<string, number>>((acc, k) => ((acc[k] = (acc[k] ?? 0) + 1), acc), {});
const round2 = (n: number) => Math.round(n * 100) / 100;
const per = (counts: Record<string, number>, n: number) => Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, round2(v / n)]));
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const stats = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100) });

/** How a comment on a lifecycle ticket counts. */
function classify(comment: FakeComment, lsid: string | undefined): { kind: string; transcripts: number; recordings: number } {
  const mine = lsid !== undefined && (comment.body.includes(lsid) || comment.attachments.some((a) => a.filename.includes(lsid)));
  const transcripts = comment.attachments.filter((a) => /-transcript\./.test(a.filename)).length;
  const recordings = comment.attachments.filter((a) => lsid !== undefined && a.filename.startsWith(`session-${lsid}-session-`)).length;
  const kind = mine
    ? [transcripts && 'transcript', recordings && 'recording'].filter(Boolean).join(' + ') || 'session-end note'
    : comment.public
      ? 'key reply'
      : 'key note';
  return { kind, transcripts, recordings };
}

/** Jobs not owned by a scheduler: a scheduler's next tick is always delayed and is no work left. */
async function unsettledJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts(...UNSETTLED);
  let busy = sum(counts) - (counts.delayed ?? 0);
  if (counts.delayed) busy += (await queue.getDelayed()).filter((job) => job && !job.repeatJobKey).length;
  return busy;
}

export async function runLifecycles(options: LifecycleOptions): Promise<LifecycleResult> {
  const {
    lifecycles,
    topology = { api: 2, worker: 3 },
    inProcess = false,
    btHourMs,
    concurrency = lifecycles,
    webhooksPerSecond = 0,
    backlogSessions = 0,
    killEveryMs = 0,
    unrelatedSessions = false,
    zendeskLimitPerMinute = 0,
    bridgeZendeskPerMinute = 0,
    recordingBytes = 64 * 1024,
    settleTimeoutMs = 180_000,
    log = () => undefined,
  } = options;
  const perSecond = options.appliance?.perSecond ?? 20;
  const perHour = options.appliance?.perHour ?? 15_000;
  const hourMs = btHourMs ?? 3_600_000;
  if (!inProcess && btHourMs !== undefined) throw new Error('btHourMs has no variable: run the bridge in-process');
  if (inProcess && killEveryMs > 0) throw new Error('kill -9 needs processes: not in-process');
  if (!inProcess && !existsSync(join(__dirname, '..', 'dist', 'main.js')))
    throw new Error('dist/main.js is missing: run `npm run build` first');

  const appliance = await new FakeAppliance({ perSecond, perHour, hourMs }).start();
  const zendesk = new FakeZendesk();
  zendesk.updateTicketLimitPerMinute = zendeskLimitPerMinute > 0 ? zendeskLimitPerMinute : Infinity;
  await zendesk.start();
  const prefix = uniquePrefix('lifecycles');
  const queues = QUEUE_NAMES.map((name) => new Queue(name, { connection: { url: REDIS_URL }, prefix }));
  const env: Record<string, string> = {
    LOG_LEVEL: 'error',
    REDIS_URL,
    RSB_REDIS_PREFIX: prefix,
    RSB_DRAIN_SECONDS: '0',
    ...applianceEnv(appliance),
    ...zendeskEnv(zendesk),
    BT_EVENTS_TOKEN: EVENTS_TOKEN,
    BT_EVENTS_ALLOWED_IPS: '127.0.0.1,::1',
    // The poll on, as deployed (it also watches key expiries, which lets Zendesk defer the key's note to the
    // session's note); every 10 minutes it costs the appliance next to nothing.
    BT_POLL_INTERVAL_SECONDS: '600',
    BT_RATE_LIMIT_PER_SECOND: String(perSecond),
    BT_RATE_LIMIT_PER_HOUR: String(perHour),
    ZENDESK_RATE_LIMIT_PER_MINUTE: String(bridgeZendeskPerMinute > 0 ? bridgeZendeskPerMinute : UNPACED_PER_MINUTE),
    // The per-address webhook flood guard counts Zendesk's webhooks and the appliance's outbound events
    // together, here all from 127.0.0.1: a few thousand events a minute (5 a session) would get 429s, hold
    // back the appliance's event queue and refuse tickets, which no deployment with two sources sees.
    RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE: '0',
    ...options.env,
  };

  const startProc = async (role: Proc['role'], port?: number): Promise<Proc> => {
    if (!inProcess) {
      const bridge = await startBridge({ ...env, RSB_ROLE: role }, port);
      const { child } = bridge;
      return {
        role,
        port: bridge.port,
        url: bridge.url,
        alive: () => child.exitCode === null && child.signalCode === null,
        stop: async (kill = true) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill(kill ? 'SIGKILL' : 'SIGTERM');
          await exited;
        },
      };
    }
    // In-process: the same configuration an operator's variables give, plus what no variable sets.
    const [{ loadConfig }, { createApp }] = await Promise.all([import('../src/config/load-config'), import('../src/bootstrap')]);
    const config = loadConfig({
      ...env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      // The watchdogs would stop this whole process (the bench); they have their own tests.
      RSB_WATCHDOG_BLOCKED_SECONDS: '0',
      RSB_WATCHDOG_STALL_SECONDS: '0',
      RSB_ROLE: role,
    });
    config.btHourMs = btHourMs;
    const app = await createApp(config);
    await app.listen({ port: port ?? 0, host: '127.0.0.1' });
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    let open = true;
    return {
      role,
      port: Number(new URL(url).port),
      url,
      alive: () => open,
      stop: async () => {
        if (open) await app.close();
        open = false;
      },
    };
  };

  const procs: Proc[] = [];
  const roles: Proc['role'][] =
    'all' in topology
      ? Array<Proc['role']>(topology.all).fill('all')
      : [...Array<Proc['role']>(topology.api).fill('api'), ...Array<Proc['role']>(topology.worker).fill('worker')];
  const processes =
    ('all' in topology ? `${topology.all} all` : `${topology.api} api + ${topology.worker} worker`) +
    (inProcess ? ' (in-process, from src/)' : ' (node dist/main.js)');

  let workerKills = 0;
  let killer: NodeJS.Timeout | undefined;
  let restarting: Promise<unknown> = Promise.resolve();
  const answers: Record<string, number> = {};
  try {
    // In-process apps boot one at a time (they share this process's module state while booting).
    if (inProcess) for (const role of roles) procs.push(await startProc(role));
    else procs.push(...(await Promise.all(roles.map((role) => startProc(role)))));
    const apis = procs.filter((p) => p.role !== 'worker');
    appliance.sendOutboundEventsTo(`${apis[0].url}/webhooks/beyondtrust`, EVENTS_TOKEN);
    log(`${processes} up; ${lifecycles} lifecycles, ${backlogSessions} backlog sessions`);

    if (killEveryMs > 0)
      killer = setInterval(() => {
        restarting = restarting
          .then(async () => {
            const workers = procs.filter((p) => p.role !== 'api' && p.alive());
            if (workers.length === 0) return;
            const victim = workers[Math.floor(Math.random() * workers.length)];
            await victim.stop(true);
            workerKills++;
            procs.splice(procs.indexOf(victim), 1, await startProc(victim.role, victim.port));
          })
          .catch((error: Error) => log(`restarting a worker failed: ${error.message}`));
      }, killEveryMs);

    const ids = Array.from({ length: lifecycles }, (_, i) => String(100_000 + i));
    const backlogIds = Array.from({ length: backlogSessions }, (_, i) => String(500_000 + i));
    for (const id of [...ids, ...backlogIds]) zendesk.createTicket(id);

    // Times: performance.now() here; the appliance records Date.now(), so webhooks keep both.
    const sentAt = new Map<string, number>();
    const sentWall = new Map<string, number>();
    const keyOnTicket = new Map<string, number>();
    const endedAt = new Map<string, number>();
    const transcriptAt = new Map<string, number>();
    const lsidOf = new Map<string, string>();
    const complete = new Map<string, number>();
    const hasArtifacts = (id: string) => {
      const lsid = lsidOf.get(id);
      const got = zendesk.tickets.get(id)!.comments.map((c) => classify(c, lsid));
      return got.some((g) => g.transcripts > 0) && got.some((g) => g.recordings > 0);
    };
    const keyReady: Record<string, () => void> = {};

    const play = (id: string, externalKey: string, unrelated: boolean) => {
      const s = appliance.startSession({ externalKey });
      lsidOf.set(id, s.lsid);
      appliance.joinRep(s.lsid, '2');
      appliance.chat(s.lsid, 'customer', `ticket ${id}: my laptop will not boot`);
      appliance.chat(s.lsid, { repId: '2' }, 'Pushing a fix now');
      appliance.addRecording(s.lsid, 'session', recordingBytes);
      const other = unrelated ? appliance.startSession({ externalKey: `walk-in-${id}` }) : undefined;
      endedAt.set(id, performance.now());
      appliance.endSession(s.lsid);
      if (other) appliance.endSession(other.lsid);
    };

    zendesk.onComment = (ticketId, comment) => {
      const now = performance.now();
      if (sentAt.has(ticketId) && !keyOnTicket.has(ticketId) && comment.public) {
        // The customer reads the reply and uses the key it carries.
        keyOnTicket.set(ticketId, now);
        const keys = [...appliance.keys.values()].filter((k) => k.externalKey === ticketId);
        const used = keys.find((k) => comment.body.includes(k.shortKey)) ?? keys[keys.length - 1];
        play(ticketId, used?.externalKey ?? ticketId, unrelatedSessions);
        keyReady[ticketId]?.();
        return;
      }
      const lsid = lsidOf.get(ticketId);
      if (lsid === undefined) return;
      if (!transcriptAt.has(ticketId) && classify(comment, lsid).transcripts > 0) transcriptAt.set(ticketId, now);
      if (!complete.has(ticketId) && hasArtifacts(ticketId)) complete.set(ticketId, now);
    };

    const began = performance.now();
    const beganWall = Date.now();
    // The backlog: sessions already held end together; their ticket is found from the external key's format.
    for (const id of backlogIds) play(id, id, false);

    const progress = setInterval(() => {
      const done = ids.filter((id) => complete.has(id)).length;
      const backlog = backlogIds.filter((id) => complete.has(id)).length;
      log(
        `${Math.round((performance.now() - began) / 1000)} s: ${keyOnTicket.size} keyed, ${done} complete of ${lifecycles}` +
          (backlogSessions ? `; backlog ${backlog}/${backlogSessions}` : '') +
          `; appliance ${appliance.requests.length} requests; ${workerKills} worker kills`,
      );
    }, 10_000);
    progress.unref();

    const lifecycle = async (id: string, n: number): Promise<void> => {
      const api = apis[n % apis.length];
      const keyed = new Promise<void>((resolve) => (keyReady[id] = resolve));
      // As Zendesk does: an unaccepted delivery is sent again with the same invocation id.
      for (const deadline = Date.now() + settleTimeoutMs; Date.now() < deadline;) {
        if (!sentAt.has(id)) {
          sentAt.set(id, performance.now());
          sentWall.set(id, Date.now());
        }
        const res = await zendesk
          .sendWebhook(
            `${api.url}/webhooks/zendesk`,
            {
              action: 'session.requested',
              ticket: { id, url: `https://example.zendesk.com/agent/tickets/${id}`, subject: 'Laptop will not boot', priority: 'Normal' },
            },
            { invocationId: `lifecycle-${id}` },
          )
          .catch(() => undefined);
        const status = String(res?.status ?? 'network error');
        answers[status] = (answers[status] ?? 0) + 1;
        if (res?.status === 202) break;
        await sleep(1_000);
      }
      // The slot frees when the key lands, or gives up on it (the count then shows it lost).
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([keyed, new Promise((resolve) => (giveUp = setTimeout(resolve, settleTimeoutMs)))]);
      clearTimeout(giveUp);
    };
    if (webhooksPerSecond > 0) {
      await Promise.all(
        ids.map(async (id, n) => {
          await sleep(began + (n * 1000) / webhooksPerSecond - performance.now());
          await lifecycle(id, n);
        }),
      );
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, lifecycles) }, async () => {
          while (next < ids.length) {
            const n = next++;
            await lifecycle(ids[n], n);
          }
        }),
      );
    }
    const all = [...ids, ...backlogIds];
    for (const deadline = Date.now() + settleTimeoutMs; all.some((id) => !complete.has(id)) && Date.now() < deadline;) await sleep(250);
    const finished = Math.max(0, ...[...complete.values()]);
    const wallSeconds = (finished - began) / 1000;
    clearInterval(killer);
    clearInterval(progress);
    await restarting;

    // A write not on its ticket yet may be a job waiting out a retry back-off after a kill: count once no
    // job of any queue is waiting, running or delayed (or the wait gave up, which the queue counts show).
    for (const deadline = Date.now() + settleTimeoutMs; ;) {
      const busy = sum(Object.fromEntries(await Promise.all(queues.map(async (q) => [q.name, await unsettledJobs(q)]))));
      if (busy === 0 || Date.now() > deadline) break;
      await sleep(500);
    }
    // Late duplicates (a job retried after a kill) get a moment to show up.
    await sleep(3_000);

    const writes = {
      ...Object.fromEntries(ARTIFACTS.map((a) => [a, { expected: lifecycles, seen: 0, lost: 0, duplicated: 0 }])),
      'other duplicates': 0,
    } as LifecycleResult['writes'];
    const kinds: string[] = [];
    const bad: string[] = [];
    for (const id of ids) {
      const lsid = lsidOf.get(id);
      const comments = zendesk.tickets.get(id)!.comments;
      const classes = comments.map((c) => classify(c, lsid));
      kinds.push(...classes.map((c) => c.kind));
      const seen: Record<Artifact, number> = {
        'key reply': classes.filter((c) => c.kind === 'key reply').length,
        transcript: sum(Object.fromEntries(classes.map((c, i) => [i, c.transcripts]))),
        recording: sum(Object.fromEntries(classes.map((c, i) => [i, c.recordings]))),
      };
      let off = false;
      for (const a of ARTIFACTS) {
        writes[a].seen += seen[a];
        writes[a].lost += Math.max(0, 1 - seen[a]);
        writes[a].duplicated += Math.max(0, seen[a] - 1);
        off ||= seen[a] !== 1;
      }
      // Any other write twice: two comments alike (same text, same files), not already counted above.
      const counted = new Set(['key reply']);
      const alike = tally(
        comments
          .filter((c, i) => !counted.has(classes[i].kind) && classes[i].transcripts === 0 && classes[i].recordings === 0)
          .map((c) => JSON.stringify([c.public, c.body, c.attachments.map((a) => a.filename)])),
      );
      const others = sum(alike) - Object.keys(alike).length;
      writes['other duplicates'] += others;
      if (off || others > 0) bad.push(id);
    }

    const suspects: LifecycleResult['suspects'] = [];
    if (bad.length > 0) {
      const jobs = (
        await Promise.all(
          queues.map(async (q) =>
            Promise.all(
              ((await q.getJobs([...UNSETTLED, 'failed', 'completed'])) as (Job | undefined)[])
                .filter((job): job is Job => Boolean(job))
                .map(async (job) => ({ q, job, state: await job.getState() })),
            ),
          ),
        )
      ).flat();
      for (const id of bad.slice(0, 20)) {
        const lsid = lsidOf.get(id);
        const mine = jobs.filter(({ job }) => {
          const text = JSON.stringify(job.data) + (job.id ?? '');
          return text.includes(`"${id}"`) || (lsid !== undefined && text.includes(lsid));
        });
        suspects.push({
          ticket: id,
          lsid,
          comments: zendesk.tickets.get(id)!.comments.length,
          jobs: mine.map(({ q, job, state }) => ({
            queue: q.name,
            id: job.id,
            name: job.name,
            state,
            attemptsMade: job.attemptsMade,
            failedReason: job.failedReason || undefined,
            delay: job.delay || undefined,
            dueInMs: state === 'delayed' ? job.timestamp + job.delay - Date.now() : undefined,
          })),
        });
      }
    }

    const needed = appliance.requests.filter((r) => r.status !== 429);
    const bt = tally(appliance.requests.map(applianceKind));
    const zd = tally(zendesk.requests.map(zendeskKind));
    const keyMade = new Map<string, number>();
    for (const r of appliance.requests)
      if (r.params.action === 'generate_session_key' && r.status === 200) {
        const id = r.params['session.custom.external_key'] ?? '';
        if (sentWall.has(id) && !keyMade.has(id)) keyMade.set(id, r.at);
      }
    const keyMadeMs = [...keyMade].map(([id, at]) => at - sentWall.get(id)!);
    const keyOnTicketMs = [...keyOnTicket].map(([id, at]) => at - sentAt.get(id)!);
    const endToTranscriptMs = [...transcriptAt].filter(([id]) => sentAt.has(id)).map(([id, at]) => at - endedAt.get(id)!);
    const updates = zd.update ?? 0;
    // Past the hour's budget, the rest waits for the hour to roll on.
    const btFloor = Math.max(needed.length / perSecond, ((needed.length - perHour) / perHour) * (hourMs / 1000));
    const zdPerMinute = bridgeZendeskPerMinute > 0 ? bridgeZendeskPerMinute : Infinity;
    // The first minute's worth goes at once; the rest at the budget's rate.
    const zdFloor = Number.isFinite(zdPerMinute) ? (Math.max(0, updates - zdPerMinute) / zdPerMinute) * 60 : 0;
    const binding = zdFloor > btFloor ? 'zendesk' : 'appliance';
    const ended = lifecycles * (unrelatedSessions ? 2 : 1) + backlogSessions;
    // A backlog session costs what a lifecycle's end does, without the key: "per lifecycle" counts both.
    const tickets = lifecycles + backlogSessions;

    // Per 5-second slice: keys asked in it and how long they took, and what the backlog still had to land.
    const timeline: LifecycleResult['timeline'] = [];
    const sliceMs = 5_000;
    for (let t = 0; t * sliceMs < Math.max(wallSeconds * 1000, 1); t += 1) {
      const from = began + t * sliceMs;
      const to = from + sliceMs;
      const inSlice = ids.filter((id) => sentAt.get(id)! >= from && sentAt.get(id)! < to);
      const made = inSlice.map((id) => (keyMade.get(id) ?? NaN) - sentWall.get(id)!).filter(Number.isFinite);
      const wallFrom = beganWall + t * sliceMs;
      const applianceInSlice = appliance.requests.filter((r) => r.at >= wallFrom && r.at < wallFrom + sliceMs);
      timeline.push({
        atS: (t * sliceMs) / 1000,
        webhooks: inSlice.length,
        keyMadeP50Ms: percentile(made, 50),
        keyMadeMaxMs: percentile(made, 100),
        keysMade: [...keyMade.values()].filter((at) => at >= wallFrom && at < wallFrom + sliceMs).length,
        lifecyclesComplete: ids.filter((id) => complete.get(id)! >= from && complete.get(id)! < to).length,
        backlogLeft: backlogIds.filter((id) => !(complete.get(id)! < to)).length,
        appliance: applianceInSlice.length,
        appliance429: applianceInSlice.filter((r) => r.status === 429).length,
      });
    }

    return {
      lifecycles,
      processes,
      backlogSessions,
      writes,
      commentsPerLifecycle: per(tally(kinds), lifecycles),
      appliance: {
        requests: bt,
        perLifecycle: { total: round2(appliance.requests.length / tickets), ...per(bt, tickets) },
        http429: appliance.rateLimited,
        reportsPerEndedSession: round2((bt['report SupportSession'] ?? 0) / ended),
      },
      zendesk: { calls: zd, perLifecycle: per(zd, tickets), http429: zendesk.updateTicketThrottled },
      lifecyclesPerHour: {
        appliance: Math.floor(perHour / (needed.length / tickets)),
        zendesk: Number.isFinite(zdPerMinute) && updates > 0 ? Math.floor((zdPerMinute * 60) / (updates / tickets)) : null,
      },
      keyMadeAtApplianceMs: stats(keyMadeMs),
      keyOnTicketMs: stats(keyOnTicketMs),
      keysAloneMs: Math.round((lifecycles / perSecond) * 1000),
      endToTranscriptMs: { p50: percentile(endToTranscriptMs, 50), p99: percentile(endToTranscriptMs, 99) },
      wallSeconds: round2(wallSeconds),
      floorSeconds: { appliance: round2(btFloor), zendesk: round2(zdFloor) },
      binding,
      wallOverFloor: round2(wallSeconds / Math.max(btFloor, zdFloor)),
      workerKills,
      webhookAnswers: answers,
      outboundEventAnswers: tally(appliance.outboundDeliveries.map((d) => String(d.status))),
      timeline,
      queues: Object.fromEntries(
        await Promise.all(queues.map(async (q) => [q.name, await q.getJobCounts(...UNSETTLED, 'completed', 'failed')] as const)),
      ),
      suspects,
    };
  } finally {
    clearInterval(killer);
    await restarting.catch(() => undefined);
    zendesk.onComment = undefined;
    await Promise.all(procs.map((p) => p.stop(true).catch(() => undefined)));
    await Promise.all([appliance.stop(), zendesk.stop(), ...queues.map((q) => q.close())]);
    await deleteKeys(prefix);
  }
}

/** True when every artifact reached every ticket exactly once and nothing else landed twice. */
export const exactlyOnce = (r: LifecycleResult): boolean =>
  ARTIFACTS.every((a) => r.writes[a].lost === 0 && r.writes[a].duplicated === 0) && r.writes['other duplicates'] === 0;

const fmt = (n: number | null | undefined) => (n === null || n === undefined || Number.isNaN(n) ? '—' : String(n));
const kinds = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([k]) => k !== 'total')
    .sort(([, a], [, b]) => b - a)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** The figures as rows of a Markdown table (figure | value), ready to paste into bench/RESULTS.md. */
export function markdownRows(r: LifecycleResult): [string, string][] {
  const w = (a: Artifact) => `${r.writes[a].seen} / ${r.writes[a].lost} / ${r.writes[a].duplicated}`;
  return [
    ['processes', r.processes],
    ['lifecycles (+ backlog sessions)', `${r.lifecycles}${r.backlogSessions ? ` + ${r.backlogSessions}` : ''}`],
    [
      'key reply / transcript / recording: seen / lost / dup',
      `${w('key reply')}; ${w('transcript')}; ${w('recording')}; other dup ${r.writes['other duplicates']}`,
    ],
    ['appliance requests / lifecycle', `**${fmt(r.appliance.perLifecycle.total)}** (${kinds(r.appliance.perLifecycle)})`],
    ['report requests / ended session', fmt(r.appliance.reportsPerEndedSession)],
    ['Zendesk calls / lifecycle', `**${fmt(r.zendesk.perLifecycle.update ?? 0)} updates** (${kinds(r.zendesk.perLifecycle)})`],
    ['comments / lifecycle', kinds(r.commentsPerLifecycle)],
    ['lifecycles/hour: appliance / Zendesk', `${fmt(r.lifecyclesPerHour.appliance)} / ${fmt(r.lifecyclesPerHour.zendesk)}`],
    [
      'key made at appliance p50 / p99 (keys alone at 20/s)',
      `${r.keyMadeAtApplianceMs.p50} / ${r.keyMadeAtApplianceMs.p99} ms (${r.keysAloneMs} ms)`,
    ],
    ['key reply on ticket p50 / p99', `${r.keyOnTicketMs.p50} / ${r.keyOnTicketMs.p99} ms`],
    ['end → transcript p50 / p99', `${r.endToTranscriptMs.p50} / ${r.endToTranscriptMs.p99} ms`],
    [
      'wall / binding floor',
      `${r.wallSeconds} s / ${Math.max(r.floorSeconds.appliance, r.floorSeconds.zendesk)} s (${r.binding}) = **${r.wallOverFloor}**; floor/wall ${round2(1 / r.wallOverFloor)}`,
    ],
    ['429s appliance / Zendesk', `**${r.appliance.http429} / ${r.zendesk.http429}**`],
    ['worker kills', String(r.workerKills)],
    ['answers: Zendesk webhooks / appliance events', `${kinds(r.webhookAnswers)} / ${kinds(r.outboundEventAnswers ?? {})}`],
  ];
}

export function markdownTable(r: LifecycleResult, header: string): string {
  return [`| figure | ${header} |`, '| --- | --- |', ...markdownRows(r).map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

/** The timeline as a Markdown table (the compressed hour: key latency while the backlog drains). */
export function timelineTable(r: LifecycleResult): string {
  return [
    '| t (s) | webhooks sent | their key made p50 / max (ms) | keys made | lifecycles complete | backlog left | appliance requests (429) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...r.timeline.map(
      (t) =>
        `| ${t.atS} | ${t.webhooks} | ${fmt(t.keyMadeP50Ms)} / ${fmt(t.keyMadeMaxMs)} | ${t.keysMade} | ${t.lifecyclesComplete} | ${t.backlogLeft} | ${t.appliance} (${t.appliance429}) |`,
    ),
  ].join('\n');
}
