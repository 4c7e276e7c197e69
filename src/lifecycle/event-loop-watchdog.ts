import { Worker } from 'node:worker_threads';

/** Exit code of a worker stopped by its watchdog (EX_SOFTWARE): the orchestrator restarts it. */
export const WATCHDOG_EXIT_CODE = 70;

export interface EventLoopWatchdogOptions {
  thresholdMs: number;
  /** Fields of every log line (service, role), so the watchdog's lines read like the others. */
  logBase: Record<string, unknown>;
  log: boolean;
}

/**
 * Runs in its own thread: a main thread stuck in a loop cannot notice it itself. The main thread stores
 * Date.now() in shared memory a few times a second; when the value is older than the threshold, the
 * thread logs it, asks the main thread for its stack and to exit through the inspector protocol (V8
 * serves inspector messages through an interrupt even in a busy loop, microtasks included; no port is
 * opened), and kills the process if that has not worked within 5 s. SIGKILL alone would not do: a
 * container's PID 1 ignores it when sent from inside its own namespace.
 */
const THREAD = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { thresholdMs, checkMs, heartbeat, logBase, log, exitCode } = workerData;
const beat = new BigInt64Array(heartbeat);
const line = (msg) => {
  if (log) writeSync(1, JSON.stringify({ level: 60, time: Date.now(), ...logBase, context: 'Watchdog', msg }) + '\\n');
};
const timer = setInterval(() => {
  const blockedMs = Date.now() - Number(Atomics.load(beat, 0));
  if (blockedMs < thresholdMs) return;
  clearInterval(timer);
  line('event loop blocked for ' + blockedMs + ' ms (RSB_WATCHDOG_BLOCKED_SECONDS is ' + thresholdMs / 1000 +
    '); exiting with code ' + exitCode + ' for a restart');
  setTimeout(() => {
    line('the main thread did not exit; killing the process');
    process.kill(process.pid, 'SIGKILL');
  }, 5000);
  try {
    const { Session } = require('node:inspector');
    const session = new Session();
    session.connectToMainThread();
    const where = '(() => { const limit = Error.stackTraceLimit; Error.stackTraceLimit = 25; ' +
      'const stack = new Error("blocked here").stack; Error.stackTraceLimit = limit; return stack; })()';
    session.post('Runtime.evaluate', { expression: where }, (error, answer) => {
      if (!error && answer && answer.result) line('the main thread is busy in: ' + answer.result.value);
      session.post('Runtime.evaluate', { expression: 'process.exit(' + exitCode + ')' });
    });
  } catch (error) {
    line('no inspector (' + error.message + '); killing the process');
    process.kill(process.pid, 'SIGKILL');
  }
}, checkMs);
`;

export interface RunningWatchdog {
  stop(): Promise<void>;
}

export function startEventLoopWatchdog(options: EventLoopWatchdogOptions): RunningWatchdog {
  const checkMs = Math.max(50, Math.min(1_000, Math.floor(options.thresholdMs / 4)));
  const heartbeat = new SharedArrayBuffer(8);
  const beat = new BigInt64Array(heartbeat);
  const touch = () => Atomics.store(beat, 0, BigInt(Date.now()));
  touch();
  const ticker = setInterval(touch, checkMs).unref();
  const thread = new Worker(THREAD, {
    eval: true,
    workerData: {
      thresholdMs: options.thresholdMs,
      checkMs,
      heartbeat,
      logBase: options.logBase,
      log: options.log,
      exitCode: WATCHDOG_EXIT_CODE,
    },
  });
  // Never what keeps the process alive, and never a reason for it to die.
  thread.unref();
  thread.on('error', () => undefined);
  return {
    async stop() {
      clearInterval(ticker);
      await thread.terminate();
    },
  };
}
