import { Readable, Transform, TransformCallback } from 'node:stream';

/**
 * Deadlines for outbound HTTP. axios's `timeout` is a socket-idle timeout: an answer trickling in a byte
 * at a time never trips it. These bound what a caller actually waits for.
 */

/** What a deadline aborts with; callers turn it into their own retryable error. */
export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

/**
 * A deadline that can be lifted: for a buffered answer it covers the whole exchange (lift it when the
 * promise settles); for a streamed answer it covers the wait for the headers, and an IdleWatchdog
 * takes over for the body.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;

  constructor(
    readonly ms: number,
    message = `no answer within ${ms} ms`,
  ) {
    this.timer = setTimeout(() => this.controller.abort(new DeadlineError(message)), ms);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the request was cut, when this deadline cut it. */
  get expired(): DeadlineError | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as DeadlineError) : undefined;
  }

  /** Starts counting again, with another message (the wait for an answer after an upload). */
  restart(message: string): void {
    if (this.controller.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new DeadlineError(message)), this.ms);
  }

  /** Stops counting without aborting. */
  lift(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Aborts now (the upload stalled). */
  abort(reason: DeadlineError): void {
    clearTimeout(this.timer);
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }
}

/**
 * Passes bytes through and fails the stream when none passed for `idleMs` once the consumer started
 * reading: a download from a stalled server, or an upload a server stopped reading. Counting starts at
 * the consumer's first read, so a stream opened early and consumed later is not cut while it waits.
 */
export class IdleWatchdog extends Transform {
  private timer?: NodeJS.Timeout;
  private watching = false;

  constructor(
    private readonly idleMs: number,
    private readonly onIdle: () => Error,
  ) {
    super();
    // A stream failed before anyone reads it (cut, or its source reset) would otherwise throw an
    // unhandled 'error' and take the process down. The error is kept in `errored`: a consumer that comes
    // later (for await, pipeline, finished) still gets it.
    this.on('error', () => undefined);
  }

  /**
   * Not `_read`: Node calls that itself, with `read(0)`, to fill the buffer up to its highWaterMark as
   * soon as bytes arrive, consumer or not (Node 22's 64 KiB default leaves room after a first chunk, so
   * every download was counted from its first byte and cut while waiting for its consumer). A consumer's
   * read — for await, pipe, 'data' — asks for more than nothing.
   */
  override read(size?: number): unknown {
    if (size !== 0 && !this.watching) {
      this.watching = true;
      this.arm();
    }
    return super.read(size);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.watching) this.arm();
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.disarm();
    done();
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    this.disarm();
    done(error);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.destroy(this.onIdle()), this.idleMs);
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * `source` behind an idle watchdog. Destroying either end destroys the other, so a consumer that gives
 * up closes the source's connection, and a stalled source fails the consumer.
 */
export function watchIdle(source: Readable, idleMs: number, onIdle: () => Error): Readable {
  const watchdog = new IdleWatchdog(idleMs, onIdle);
  source.on('error', (error) => watchdog.destroy(error));
  watchdog.on('close', () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(watchdog);
  return watchdog;
}

export const isReadable = (value: unknown): value is Readable =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Readable).pipe === 'function' &&
  typeof (value as Readable).on === 'function';
