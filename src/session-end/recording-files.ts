import { Transform, TransformCallback } from 'node:stream';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { RecordingStream } from '../beyondtrust/transport';
import { RecordingJob } from '../jobs/queues';

/** What a recording download needs to know: which one, of which session. */
export type RecordingSpec = Pick<RecordingJob, 'lsid' | 'kind' | 'instance' | 'downloadInstance'>;

/** Counted from 1 for people, from the download's instance (which counts from 0 in every reading of the guide). */
export const LABEL: Record<RecordingJob['kind'], (downloadInstance: number) => string> = {
  session: () => 'session recording',
  showMyScreen: (i) => `Show My Screen recording ${i + 1}`,
  commandShell: (i) => `command shell recording ${i + 1}`,
};

/**
 * The instance to download. Jobs queued before `downloadInstance` existed carry only the report's number,
 * read then as Show My Screen from 0 and command shell from 1.
 */
export const downloadInstanceOf = (job: RecordingSpec): number =>
  job.downloadInstance ?? (job.kind === 'commandShell' ? job.instance - 1 : job.instance);

export const human = (bytes?: number) =>
  bytes === undefined
    ? 'size unknown'
    : bytes >= 1 << 30
      ? `${(bytes / (1 << 30)).toFixed(2)} GiB`
      : `${(bytes / (1 << 20)).toFixed(1)} MiB`;

/** Where a transfer shows how far it got and why it waited: the job's progress and log, in Bull Board. */
export interface TransferReport {
  progress(progress: { bytes: number; total?: number }): Promise<unknown>;
  log(line: string): Promise<unknown>;
}
export const UNREPORTED: TransferReport = { progress: () => Promise.resolve(), log: () => Promise.resolve() };
const PROGRESS_BYTES = 1 << 20;
const PROGRESS_MS = 1000;

/**
 * Fails the stream once more than `max` bytes went through: an upload of unknown length stops at the cap.
 * Reports the bytes through every MiB or second (a progress write per chunk would flood Redis).
 */
export class ByteLimit extends Transform {
  bytes = 0;
  exceeded = false;
  private reported = { bytes: 0, at: Date.now() };
  constructor(
    private readonly max: number,
    private readonly report: TransferReport,
    private readonly total?: number,
  ) {
    super();
  }
  /** The last count, once the transfer is over. */
  flushProgress(): Promise<unknown> {
    return this.report.progress({ bytes: this.bytes, total: this.total });
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes - this.reported.bytes >= PROGRESS_BYTES || Date.now() - this.reported.at >= PROGRESS_MS) {
      this.reported = { bytes: this.bytes, at: Date.now() };
      void this.flushProgress();
    }
    if (this.bytes > this.max) {
      this.exceeded = true;
      return done(new Error(`the file is larger than ${this.max} bytes`));
    }
    done(null, chunk);
  }
}

/** The recording's download from the appliance (one request through the shared rate limiter). */
export function openRecording(beyondtrust: BeyondTrustService, job: RecordingSpec): Promise<RecordingStream> {
  const reporting = beyondtrust.reporting;
  if (job.kind === 'session') return reporting.supportSessionRecording(job.lsid);
  if (job.kind === 'showMyScreen') return reporting.showMyScreenRecording(job.lsid, downloadInstanceOf(job));
  return reporting.commandShellRecording(job.lsid, downloadInstanceOf(job));
}
