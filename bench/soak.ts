/**
 * `npm run soak [lifecycles]`: 2 api and 3 worker processes (node dist/main.js) against the fake appliance
 * and the fake Zendesk, N complete ticket lifecycles, and a worker killed with SIGKILL (then restarted)
 * every few seconds. A lifecycle: a signed Zendesk webhook → the session key on the ticket (public reply
 * and internal note) → the customer uses it, the fake appliance plays and ends the session with chat and
 * a recording → the transcript note and the recording on the ticket. Prints, per lifecycle kind, the
 * writes expected, seen, lost and duplicated; the appliance's requests by kind and its 429s; requests
 * per lifecycle and the ceiling they set under 15,000 requests/hour; the wall time.
 * Counts once the lifecycle queues have drained (a write waiting out a back-off is not lost), and names the
 * jobs of any lifecycle short of its writes. Exits 1 when any write was lost or duplicated. The short version
 * for CI: test/e2e/soak.e2e-spec.ts.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { Queue } from 'bullmq';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { QUEUES } from '../src/jobs/queues';
import { FakeAppliance } from '../test/fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../test/fakes/zendesk/fake-zendesk';
import { freePort } from '../test/support/child';
import { applianceEnv, zendeskEnv } from '../test/support/fake-env';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../test/support/redis';

const EVENTS_TOKEN = 'soak-events-token-0123456789';
/** The appliance's documented budget per API account. */
const REQUESTS_PER_HOUR = 15_000;
/** What each lifecycle kind writes on its ticket. */
const EXPECTED = { key: 2, 'session end': 2 } as const;
type Kind = keyof typeof EXPECTED;

export interface SoakOptions {
  lifecycles: number;
  /** Lifecycles in flight at once. */
  concurrency?: number;
  /** A random worker is killed (SIGKILL) and restarted this often; 0: never. */
  killEveryMs?: number;
  /** Give up waiting for the last writes, and then for the queues to drain, after this long. */
  settleTimeoutMs?: number;
  /**
   * Zendesk's Update Ticket limit in the fake and the bridge's ZENDESK_RATE_LIMIT_PER_MINUTE, set together;
   * 0 (the default) turns both off, so the soak counts losses and not pacing (a lifecycle is 4 writes: 100
   * lifecycles at 60 a minute would take ~7 min). Pacing has its own tests and bench.
   */
  zendeskWritesPerMinute?: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  lifecycles: number;
  kinds: Record<Kind, { expected: number; seen: number; lost: number; duplicated: number }>;
  applianceRequests: Record<string, number>;
  appliance429s: number;
  applianceRequestsPerLifecycle: number;
  lifecyclesPerHourCeiling: number;
  workerKills: number;
  webhookAnswers: Record<string, number>;
  wallSeconds: number;
  /** The bridge's queues when counting: jobs by state. Non-zero waiting/active/delayed means it gave up waiting. */
  queues: Record<string, Record<string, number>>;
  /** For each lifecycle with a write missing or doubled: its jobs still in Redis (state, attempts, reason, delay). */
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
  /** When a delayed job is due, from its timestamp and delay. */
  dueInMs?: number;
}

/** Queues that carry a lifecycle's writes; the soak waits until none has a job waiting, running or delayed. */
const LIFECYCLE_QUEUES = [QUEUES.ticketEvents, QUEUES.sessionEnd, QUEUES.recordings];
const UNSETTLED = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

interface Proc {
  role: 'api' | 'worker';
  port: number;
  child: ChildProcess;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The appliance request's kind: the command action, the report, or the path. */
const requestKind = (r: { path: string; params: Record<string, string> }): string =>
  r.params.action ?? (r.params.generate_report ? `report ${r.params.generate_report}` : r.path.replace(/\?.*$/, ''));

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const {
    lifecycles,
    concurrency = 20,
    killEveryMs = 3_000,
    settleTimeoutMs = 180_000,
    zendeskWritesPerMinute = 0,
    log = () => undefined,
  } = options;
  const main = join(__dirname, '..', 'dist', 'main.js');
  if (!existsSync(main)) throw new Error('dist/main.js is missing: run `npm run build` first');

  const appliance = await new FakeAppliance().start();
  const zendesk = new FakeZendesk();
  zendesk.updateTicketLimitPerMinute = zendeskWritesPerMinute > 0 ? zendeskWritesPerMinute : Infinity;
  await zendesk.start();
  const prefix = uniquePrefix('soak');
  const queues = LIFECYCLE_QUEUES.map((name) => new Queue(name, { connection: { url: REDIS_URL }, prefix }));
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    REDIS_URL,
    RSB_REDIS_PREFIX: prefix,
    RSB_DRAIN_SECONDS: '0',
    ...applianceEnv(appliance),
    ...zendeskEnv(zendesk),
    BT_EVENTS_TOKEN: EVENTS_TOKEN,
    BT_EVENTS_ALLOWED_IPS: '127.0.0.1,::1',
    BT_POLL_INTERVAL_SECONDS: '0',
    ZENDESK_RATE_LIMIT_PER_MINUTE: String(zendeskWritesPerMinute > 0 ? zendeskWritesPerMinute : 100_000),
  };
  const procs: Proc[] = [];
  const start = async (role: Proc['role'], port?: number): Promise<Proc> => {
    port ??= await freePort();
    const child = spawn(process.execPath, [main], {
      env: { ...env, RSB_ROLE: role, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const proc = { role, port, child };
    for (const deadline = Date.now() + 30_000; ;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${role} on ${port} did not become ready`);
      await sleep(100);
    }
    return proc;
  };

  const began = Date.now();
  let workerKills = 0;
  let killer: NodeJS.Timeout | undefined;
  const answers: Record<string, number> = {};
  try {
    procs.push(...(await Promise.all([start('api'), start('api'), start('worker'), start('worker'), start('worker')])));
    const apis = procs.filter((p) => p.role === 'api');
    appliance.sendOutboundEventsTo(`http://127.0.0.1:${apis[0].port}/webhooks/beyondtrust`, EVENTS_TOKEN);
    log(`2 api + 3 worker processes up; ${lifecycles} lifecycles, ${concurrency} at a time, a worker killed every ${killEveryMs} ms`);

    // kill -9 a random worker, start a fresh one on its port.
    let restarting: Promise<unknown> = Promise.resolve();
    if (killEveryMs > 0)
      killer = setInterval(() => {
        restarting = restarting
          .then(async () => {
            const workers = procs.filter((p) => p.role === 'worker' && p.child.exitCode === null);
            if (workers.length === 0) return;
            const victim = workers[Math.floor(Math.random() * workers.length)];
            victim.child.kill('SIGKILL');
            workerKills++;
            await new Promise((resolve) => (victim.child.exitCode !== null ? resolve(null) : victim.child.once('exit', resolve)));
            procs.splice(procs.indexOf(victim), 1, await start('worker', victim.port));
          })
          .catch((error: Error) => log(`restarting a worker failed: ${error.message}`));
      }, killEveryMs);

    const ids = Array.from({ length: lifecycles }, (_, i) => String(100_000 + i));
    for (const id of ids) zendesk.createTicket(id);
    const progress = setInterval(() => {
      const writes = ids.map((id) => zendesk.tickets.get(id)!.comments.length);
      log(
        `${Math.round((Date.now() - began) / 1000)} s: ${writes.filter((n) => n >= 2).length} keyed, ` +
          `${writes.filter((n) => n >= 4).length} complete of ${lifecycles}; ${workerKills} worker kills`,
      );
    }, 10_000);
    progress.unref();
    const lifecycle = async (id: string, n: number): Promise<void> => {
      const api = apis[n % apis.length];
      // As Zendesk does: an unaccepted delivery is sent again with the same invocation id.
      for (const deadline = Date.now() + settleTimeoutMs; Date.now() < deadline;) {
        const res = await zendesk
          .sendWebhook(
            `http://127.0.0.1:${api.port}/webhooks/zendesk`,
            { action: 'session.requested', ticket: { id, subject: `Soak ${id}` } },
            { invocationId: `soak-${id}` },
          )
          .catch(() => undefined);
        const status = String(res?.status ?? 'network error');
        answers[status] = (answers[status] ?? 0) + 1;
        if (res?.status === 202) break;
        await sleep(1_000);
      }
      const ticket = zendesk.tickets.get(id)!;
      for (const deadline = Date.now() + settleTimeoutMs; ticket.comments.length < EXPECTED.key;) {
        if (Date.now() > deadline) return;
        await sleep(100);
      }
      appliance.playSession(id);
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, lifecycles) }, async () => {
        while (next < ids.length) {
          const n = next++;
          await lifecycle(ids[n], n);
        }
      }),
    );
    const total = EXPECTED.key + EXPECTED['session end'];
    for (const deadline = Date.now() + settleTimeoutMs; ids.some((id) => zendesk.tickets.get(id)!.comments.length < total);) {
      if (Date.now() > deadline) break;
      await sleep(250);
    }
    clearInterval(killer);
    clearInterval(progress);
    await restarting;
    // A write not on its ticket yet may be a job waiting out a retry back-off after a kill: count only once
    // no lifecycle job is waiting, running or delayed (or the wait gave up, which the queue counts show).
    const queueCounts = async () =>
      Object.fromEntries(
        await Promise.all(queues.map(async (q) => [q.name, await q.getJobCounts(...UNSETTLED, 'completed', 'failed')] as const)),
      );
    for (const deadline = Date.now() + settleTimeoutMs; ;) {
      const counts = await queueCounts();
      const busy = Object.values(counts).reduce((n, c) => n + UNSETTLED.reduce((m, state) => m + (c[state] ?? 0), 0), 0);
      if (busy === 0 || Date.now() > deadline) break;
      await sleep(500);
    }
    // Late duplicates (a job retried after a kill) get a moment to show up.
    await sleep(3_000);

    const kinds = Object.fromEntries(
      Object.entries(EXPECTED).map(([kind, expected]) => [kind, { expected: expected * lifecycles, seen: 0, lost: 0, duplicated: 0 }]),
    ) as SoakResult['kinds'];
    const lsidOf = new Map([...appliance.sessions.values()].map((s) => [s.externalKey, s.lsid]));
    for (const id of ids) {
      const lsid = lsidOf.get(id);
      const comments = zendesk.tickets.get(id)!.comments;
      const sessionEnd = lsid ? comments.filter((c) => c.body.includes(lsid)).length : 0;
      for (const [kind, seen] of [
        ['key', comments.length - sessionEnd],
        ['session end', sessionEnd],
      ] as [Kind, number][]) {
        kinds[kind].seen += seen;
        kinds[kind].lost += Math.max(0, EXPECTED[kind] - seen);
        kinds[kind].duplicated += Math.max(0, seen - EXPECTED[kind]);
      }
    }
    const suspects: SoakResult['suspects'] = [];
    const bad = ids.filter((id) => zendesk.tickets.get(id)!.comments.length !== total);
    if (bad.length > 0) {
      const jobs = (
        await Promise.all(
          queues.map(async (q) =>
            Promise.all(
              (await q.getJobs([...UNSETTLED, 'failed', 'completed']))
                .filter(Boolean)
                .map(async (job) => ({ q, job, state: await job.getState() })),
            ),
          ),
        )
      ).flat();
      for (const id of bad) {
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
    const applianceRequests: Record<string, number> = {};
    for (const r of appliance.requests) applianceRequests[requestKind(r)] = (applianceRequests[requestKind(r)] ?? 0) + 1;
    const perLifecycle = appliance.requests.length / lifecycles;
    return {
      lifecycles,
      kinds,
      applianceRequests,
      appliance429s: appliance.requests.filter((r) => r.status === 429).length,
      applianceRequestsPerLifecycle: Number(perLifecycle.toFixed(2)),
      lifecyclesPerHourCeiling: Math.floor(REQUESTS_PER_HOUR / perLifecycle),
      workerKills,
      webhookAnswers: answers,
      wallSeconds: Number(((Date.now() - began) / 1000).toFixed(1)),
      queues: await queueCounts(),
      suspects,
    };
  } finally {
    clearInterval(killer);
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all([appliance.stop(), zendesk.stop(), ...queues.map((q) => q.close())]);
    await deleteKeys(prefix);
  }
}

if (require.main === module) {
  const lifecycles = Number(process.argv[2] ?? process.env.SOAK_LIFECYCLES ?? 300);
  runSoak({ lifecycles, log: (line) => console.error(line) })
    .then((result) => {
      console.log(JSON.stringify(result, null, 2));
      const bad = Object.values(result.kinds).some((k) => k.lost > 0 || k.duplicated > 0);
      process.exitCode = bad ? 1 : 0;
    })
    .catch((error: Error) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => setTimeout(() => process.exit(), 100).unref());
}
