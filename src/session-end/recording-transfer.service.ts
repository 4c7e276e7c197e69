import { Inject, Injectable, Logger } from '@nestjs/common';
import { Transform, TransformCallback } from 'node:stream';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { RecordingStream } from '../beyondtrust/transport';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { liquid } from '../config/rules';
import { recordingBytes } from '../metrics/metrics';
import { RecordingJob } from '../jobs/queues';
import { TicketsService } from '../tickets/tickets.service';
import { SessionEndService } from './session-end.service';
import { ArtifactStore } from './session-stores';

export interface TransferOutcome {
  artifact: string;
  result: 'attached' | 'linked' | 'already written';
  bytes?: number;
  reason?: string;
}

/** Counted from 1 for people, from the download's instance (which counts from 0 in every reading of the guide). */
const LABEL: Record<RecordingJob['kind'], (downloadInstance: number) => string> = {
  session: () => 'session recording',
  showMyScreen: (i) => `Show My Screen recording ${i + 1}`,
  commandShell: (i) => `command shell recording ${i + 1}`,
};

/**
 * The instance to download. Jobs queued before `downloadInstance` existed carry only the report's number,
 * read then as Show My Screen from 0 and command shell from 1.
 */
const downloadInstanceOf = (job: RecordingJob): number =>
  job.downloadInstance ?? (job.kind === 'commandShell' ? job.instance - 1 : job.instance);

const human = (bytes?: number) =>
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
const UNREPORTED: TransferReport = { progress: () => Promise.resolve(), log: () => Promise.resolve() };
const PROGRESS_BYTES = 1 << 20;
const PROGRESS_MS = 1000;

/**
 * Fails the stream once more than `max` bytes went through: an upload of unknown length stops at the cap.
 * Reports the bytes through every MiB or second (a progress write per chunk would flood Redis).
 */
class ByteLimit extends Transform {
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

/**
 * One recording from the appliance into the ticket's attachment API, streamed end to end (never held in
 * memory or on disk). Over the size cap, or for a system that takes no files, the appliance's links are
 * written instead, with the reason.
 */
@Injectable()
export class RecordingTransferService {
  private readonly logger = new Logger('Recordings');

  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly tickets: TicketsService,
    private readonly sessions: SessionEndService,
    private readonly artifacts: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async transfer(job: RecordingJob, report: TransferReport = UNREPORTED): Promise<TransferOutcome> {
    const artifact = `recording:${job.kind}:${job.instance}`;
    const writer = this.tickets.requireWriter(job.ticket.system);
    const ticket = { ...job.ticket, via: 'link' as const };
    const label = LABEL[job.kind](downloadInstanceOf(job));
    const max = this.config.env.RSB_MAX_ATTACHMENT_BYTES ?? writer.defaultMaxAttachmentBytes;

    const link = async (reason: string, size?: number): Promise<TransferOutcome> => {
      const text = (
        await liquid.parseAndRender(this.config.rules.sessionEnd.recordingLink, {
          session: { lsid: job.lsid },
          recording: { label, size: human(size), reason, viewUrl: job.viewUrl ?? '', downloadUrl: job.downloadUrl ?? '' },
        })
      ).trim();
      const how = await this.sessions.writeOnce(job.lsid, artifact, writer, ticket, { text });
      await report.log(`${how === 'found' ? 'the link was already on the ticket' : 'linked, not attached'}: ${reason}`);
      return { artifact, result: how === 'found' ? 'already written' : 'linked', bytes: size, reason };
    };

    if (await this.artifacts.isDone(job.lsid, artifact)) {
      await report.log(`${label} is already on the ticket: nothing to transfer`);
      return { artifact, result: 'already written' };
    }
    if (max === 0) return link(`${job.ticket.system} tickets take no file attachments`);
    const asked = Date.now();
    let opened: RecordingStream | undefined = await this.open(job);
    const waited = (Date.now() - asked) / 1000;
    // The appliance's shared rate limit, a 429's Retry-After and its retries all happen before the answer.
    await report.log(
      `${label}: ${human(opened.contentLength)} from the appliance${waited >= 1 ? `, which answered after ${waited.toFixed(1)} s (shared rate limit, Retry-After or a slow appliance)` : ''}`,
    );
    if (opened.contentLength !== undefined && opened.contentLength > max) {
      opened.stream.destroy();
      return link(`it is larger than the ${human(max)} attachment limit (RSB_MAX_ATTACHMENT_BYTES)`, opened.contentLength);
    }
    const extension = /\.[A-Za-z0-9]{1,8}$/.exec(opened.filename ?? '')?.[0] ?? '.bin';
    const filename = `session-${job.lsid}-${job.kind}-${downloadInstanceOf(job)}${extension}`;
    const limit = new ByteLimit(max, report, opened.contentLength);
    const started = Date.now();
    try {
      const how = await this.sessions.writeOnce(job.lsid, artifact, writer, ticket, {
        text: `${label[0].toUpperCase()}${label.slice(1)} of remote support session ${job.lsid} attached: ${filename} (${human(opened.contentLength)}).`,
        files: [
          {
            filename,
            contentType: opened.contentType || 'application/octet-stream',
            // The first open uses the stream already requested; a writer that opens again gets a new one.
            open: async () => {
              const source = opened ?? (await this.open(job));
              opened = undefined;
              source.stream.on('error', (error) => limit.destroy(error));
              // An upload given up (its deadline, a refusal) closes the download too.
              limit.on('close', () => source.stream.destroy());
              return { stream: source.stream.pipe(limit), length: source.contentLength };
            },
          },
        ],
      });
      if (how === 'found') opened?.stream.destroy();
      recordingBytes.inc({ system: job.ticket.system }, limit.bytes);
      await limit.flushProgress();
      await report.log(
        how === 'found'
          ? `${filename} was already on the ticket`
          : `${filename}: ${limit.bytes} bytes to ${job.ticket.system} ticket ${job.ticket.number} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      this.logger.log(`session ${job.lsid}: ${label} → ${job.ticket.system} ticket ${job.ticket.number} (${human(limit.bytes)})`);
      return { artifact, result: how === 'found' ? 'already written' : 'attached', bytes: limit.bytes };
    } catch (error) {
      if (limit.exceeded) return link(`it is larger than the ${human(max)} attachment limit (RSB_MAX_ATTACHMENT_BYTES)`);
      throw error;
    } finally {
      opened?.stream.destroy();
    }
  }

  private open(job: RecordingJob): Promise<RecordingStream> {
    const reporting = this.beyondtrust.reporting;
    if (job.kind === 'session') return reporting.supportSessionRecording(job.lsid);
    if (job.kind === 'showMyScreen') return reporting.showMyScreenRecording(job.lsid, downloadInstanceOf(job));
    return reporting.commandShellRecording(job.lsid, downloadInstanceOf(job));
  }
}
