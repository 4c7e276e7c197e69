import { Inject, Injectable, Logger } from '@nestjs/common';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { RecordingStream } from '../beyondtrust/transport';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { liquid } from '../config/rules';
import { recordingBytes } from '../metrics/metrics';
import { RecordingJob } from '../jobs/queues';
import { TicketsService } from '../tickets/tickets.service';
import { ByteLimit, downloadInstanceOf, human, LABEL, openRecording, TransferReport, UNREPORTED } from './recording-files';
import { SessionEndService } from './session-end.service';
export type { TransferReport } from './recording-files';
import { ArtifactStore } from './session-stores';

export interface TransferOutcome {
  artifact: string;
  result: 'attached' | 'linked' | 'already written';
  bytes?: number;
  reason?: string;
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

  /**
   * A transfer that failed for good (retries spent, a permanent refusal, its workers dying under it): one
   * note on the ticket naming the recording and why, with the appliance's links where the report gave
   * them, in the words of a recording linked instead of attached (rules.sessionEnd.recordingLink). Its
   * own step, apart from the recording's: a retry of the failed job may still attach the file. Nothing
   * when the recording is on the ticket after all; when the ticket system is what fails, only logged.
   */
  async reportFailure(job: RecordingJob, error: Error): Promise<void> {
    const artifact = `recording:${job.kind}:${job.instance}`;
    const label = LABEL[job.kind](downloadInstanceOf(job));
    const where = `session ${job.lsid}: ${label} for ${job.ticket.system} ticket ${job.ticket.number}`;
    this.logger.error(`${where} failed for good: ${error.message}`);
    try {
      if (await this.artifacts.isDone(job.lsid, artifact)) return;
      const writer = this.tickets.requireWriter(job.ticket.system);
      const text = (
        await liquid.parseAndRender(this.config.rules.sessionEnd.recordingLink, {
          session: { lsid: job.lsid },
          recording: {
            label,
            size: human(undefined),
            reason: `rs-bridge gave up transferring it (${error.message})`,
            viewUrl: job.viewUrl ?? '',
            downloadUrl: job.downloadUrl ?? '',
          },
        })
      ).trim();
      await this.sessions.writeOnce(job.lsid, `${artifact}:failed`, writer, { ...job.ticket, via: 'link' }, { text });
    } catch (noteError) {
      this.logger.warn(`${where}: the note saying so could not be written either: ${(noteError as Error).message}`);
    }
  }

  private open(job: RecordingJob): Promise<RecordingStream> {
    return openRecording(this.beyondtrust, job);
  }
}
