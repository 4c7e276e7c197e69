/**
 * `npm run soak [lifecycles]`: 2 api and 3 worker processes (node dist/main.js) against the fake appliance
 * and the fake Zendesk, N complete ticket lifecycles, 20 in flight, and a worker killed with SIGKILL (then
 * restarted) every few seconds. A lifecycle: a signed Zendesk webhook → the session key on the ticket → the
 * customer uses it, the fake appliance plays and ends the session with chat and a recording → the transcript
 * and the recording on the ticket (the harness: bench/lifecycles.ts). Prints, per artifact, what was
 * expected, seen, lost and duplicated; the appliance's requests by kind and its 429s; requests per
 * lifecycle and the ceiling they set under 15,000 requests/hour; the wall time. Exits 1 when any write was
 * lost or duplicated. The short version for CI: test/e2e/soak.e2e-spec.ts.
 */
import { exactlyOnce, LifecycleResult, markdownTable, runLifecycles } from './lifecycles';

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
   * 0 (the default) turns both off, so the soak counts losses and not pacing. Pacing: `npm run bench:capacity`.
   */
  zendeskWritesPerMinute?: number;
  log?: (line: string) => void;
}

export function runSoak(options: SoakOptions): Promise<LifecycleResult> {
  const { concurrency = 20, killEveryMs = 3_000, zendeskWritesPerMinute = 0, ...rest } = options;
  return runLifecycles({
    ...rest,
    concurrency,
    killEveryMs,
    zendeskLimitPerMinute: zendeskWritesPerMinute,
    bridgeZendeskPerMinute: zendeskWritesPerMinute,
    recordingBytes: 256 * 1024,
  });
}

if (require.main === module) {
  const lifecycles = Number(process.argv[2] ?? process.env.SOAK_LIFECYCLES ?? 300);
  runSoak({ lifecycles, log: (line) => console.error(line) })
    .then((result) => {
      console.log(JSON.stringify(result, null, 2));
      console.log(
        `\n${markdownTable(result, `soak, ${lifecycles} lifecycles, workers kill -9'd (${new Date().toISOString().slice(0, 10)})`)}`,
      );
      process.exitCode = exactlyOnce(result) ? 0 : 1;
    })
    .catch((error: Error) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => setTimeout(() => process.exit(), 100).unref());
}
