/**
 * Capacity per account, measured as whole ticket lifecycles (issues 23 and 20), through the harness in
 * bench/lifecycles.ts: 2 api + 3 worker processes (node dist/main.js), real Redis, the fakes in this process.
 *
 *   npm run bench:capacity -- [N=200]
 *     Issue 23: a burst of N signed Zendesk webhooks; each key's reply makes the fake appliance play a
 *     session (chat, one 64 KiB recording) and end it, with one unrelated session (no ticket behind its key)
 *     ending beside it. Fake appliance at 20 requests/s; fake Zendesk enforcing its documented Update Ticket
 *     limit (100/min); the bridge at ZENDESK_RATE_LIMIT_PER_MINUTE=60.
 *   npm run bench:capacity -- 1000 --zendesk-unlimited
 *     Issue 20: the same with Zendesk unpaced (no limit in the fake, none in the bridge): the appliance's
 *     20/s is the only budget; target wall ≤ floor / 0.9, 0 × 429.
 *   npm run bench:capacity -- [N=60] --compressed-hour [--per-hour=600] [--hour-ms=40000] [--backlog=600] [--rate=1]
 *     Issue 23's second scenario: the hourly regime compressed. A budget of 600 requests an "hour" of 40 s
 *     (the bridge's limiter and the fake's both), a backlog of sessions ending at once on tickets of their own
 *     (more batch work than the hour allows), and N new tickets asking for keys at `rate` a second meanwhile.
 *     The "hour" has no variable, so the bridge runs in this process (1 api + 3 worker apps, from src/)
 *     with the length given in code. Prints key latency per 5-second slice against the backlog left.
 *
 * Other flags: --no-unrelated, --kill (a worker kill -9'd every 3 s), --zendesk-limit=<per min>,
 * --bridge-zendesk=<per min>, --timeline (print the 5-second slices for any scenario), --from=<bench/results/…json>
 * (print a saved run's tables again). Prints the figures as JSON (also in bench/results/) and as a Markdown table
 * ready for bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { machine, report } from './lib';
import {
  LifecycleOptions,
  LifecycleResult,
  markdownTable,
  runLifecycles,
  timelineTable,
  ZENDESK_DOCUMENTED_PER_MINUTE,
} from './lifecycles';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string, fallback: number) => {
  const found = args.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const positional = args.find((a) => /^\d+$/.test(a));

const compressed = flag('compressed-hour');
const unlimited = flag('zendesk-unlimited') || compressed;
const lifecycles = Number(positional ?? (compressed ? 60 : 200));

const options: LifecycleOptions = {
  lifecycles,
  unrelatedSessions: !flag('no-unrelated'),
  killEveryMs: flag('kill') ? 3_000 : 0,
  zendeskLimitPerMinute: value('zendesk-limit', unlimited ? 0 : ZENDESK_DOCUMENTED_PER_MINUTE),
  bridgeZendeskPerMinute: value('bridge-zendesk', unlimited ? 0 : 60),
  appliance: { perSecond: 20, perHour: compressed ? value('per-hour', 600) : 15_000 },
  settleTimeoutMs: 30 * 60_000,
  log: (line) => console.error(line),
  ...(compressed && {
    inProcess: true,
    topology: { api: 1, worker: 3 },
    btHourMs: value('hour-ms', 40_000),
    backlogSessions: value('backlog', 600),
    webhooksPerSecond: value('rate', 1),
    settleTimeoutMs: 10 * 60_000,
  }),
};
const scenario = compressed
  ? `compressed-hour-${options.appliance!.perHour}-per-${options.btHourMs! / 1000}s`
  : `${unlimited ? 'zendesk-unlimited' : 'zendesk-limited'}-${lifecycles}`;

/** `--from=bench/results/<name>.json`: the tables of a run already made, printed again. */
function reprint(path: string): void {
  const saved = JSON.parse(readFileSync(path, 'utf8')) as {
    date: string;
    machine: { cpus: number };
    figures: LifecycleResult & { scenario: string; commit: string };
  };
  const { figures: r } = saved;
  console.log(markdownTable(r, `${r.scenario}, ${saved.date.slice(0, 10)}, ${r.commit}, ${saved.machine.cpus} vCPU`));
  console.log(`\n${timelineTable(r)}`);
}

async function main(): Promise<void> {
  const from = args.find((a) => a.startsWith('--from='));
  if (from) return reprint(from.slice('--from='.length));
  const loadBefore = machine().loadAverage;
  const result = await runLifecycles(options);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const { timeline, ...figures } = result;
  report(`capacity-${scenario}`, { scenario, commit, options: { ...options, log: undefined }, ...figures, timeline });
  const m = machine();
  const header = `${scenario}, ${new Date().toISOString().slice(0, 10)}, ${commit}, ${m.cpus} vCPU, load ${loadBefore.join('/')} → ${m.loadAverage.join('/')}`;
  console.log(`\n${markdownTable(result, header)}`);
  if (compressed || flag('timeline')) console.log(`\n${timelineTable(result)}`);
}

void main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => setTimeout(() => process.exit(), 100).unref());
