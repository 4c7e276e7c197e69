import { Inject, Injectable, Logger } from '@nestjs/common';
import { BeyondTrustError } from '../beyondtrust/beyondtrust.errors';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { recordingBytes } from '../metrics/metrics';
import { DeadlineError } from '../outbound/deadline';
import { RedisService } from '../redis/redis.service';
import { TicketSystemError } from '../tickets/ticket-system.errors';
import { StagedFile, TicketWriter } from '../tickets/ticket-writer';
import { ByteLimit, human, LABEL, openRecording, UNREPORTED } from './recording-files';
import type { RecordingRef } from './transcript';

/** What became of one recording for the session's note. */
export type NoteRecording = {
  artifact: string;
  label: string;
  viewUrl: string;
  downloadUrl: string;
  size?: number;
} & (
  | { result: 'attached'; staged: StagedFile }
  /** Over the size cap, or the system takes no files: the note carries the links and the reason. */
  | { result: 'linked'; reason: string }
  /** The transfer failed or ran out of time: the note says so, and a transfer job adds it later. */
  | { result: 'failed'; reason: string }
);

interface Plan {
  /** When staging began: the oldest upload token of the plan is no older. */
  at: number;
  recordings: NoteRecording[];
}

const PLAN_TTL_SECONDS = 90 * 24 * 3600;

class OverCap extends Error {
  constructor(readonly size?: number) {
    super('over the size cap');
  }
}

/**
 * The recordings that ride on a session's note, for writers that take several files on one comment
 * (Zendesk's upload tokens): each is streamed from the appliance into the ticket system's upload API
 * first, then the note is written once, carrying them all (one ticket update instead of one a recording).
 *
 * The outcome (the plan) is kept in Redis before the note is written, and a retry writes the note the
 * plan describes: a note that landed before a crash says what it says, and the recordings are marked
 * from the same plan. A plan is made again only while its note is not on the ticket and its upload
 * tokens have expired. The wait is bounded (RSB_NOTE_RECORDINGS_WAIT_SECONDS): a recording not staged
 * by then, or whose transfer failed, is named in the note with the reason and follows in its own note.
 */
@Injectable()
export class NoteRecordings {
  private readonly logger = new Logger('Recordings');

  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Whether this writer's notes carry the session's recordings. */
  takes(writer: TicketWriter): boolean {
    return writer.stageFile !== undefined;
  }

  private planKey(lsid: string): string {
    return this.redis.key('artifacts', lsid, 'note-recordings');
  }

  /**
   * The plan for the note: the one kept, when its tokens are still good or `landed()` says its note is on
   * the ticket; otherwise the recordings are staged now. `signal` aborts (the session's lock was lost).
   */
  async plan(
    lsid: string,
    refs: RecordingRef[],
    ticket: { system: string; id: string; number: string },
    writer: TicketWriter,
    landed: () => Promise<boolean>,
    signal: AbortSignal,
  ): Promise<NoteRecording[]> {
    const raw = await this.redis.connection.get(this.planKey(lsid));
    if (raw) {
      const kept = JSON.parse(raw) as Plan;
      if (Date.now() - kept.at < (writer.stagedFileTtlMs ?? 0) || (await landed())) return kept.recordings;
    }
    const at = Date.now();
    const recordings = await this.stage(lsid, refs, ticket, writer, signal);
    await this.redis.connection.set(this.planKey(lsid), JSON.stringify({ at, recordings } satisfies Plan), 'EX', PLAN_TTL_SECONDS);
    await this.redis.replicated();
    return recordings;
  }

  private async stage(
    lsid: string,
    refs: RecordingRef[],
    ticket: { system: string; id: string; number: string },
    writer: TicketWriter,
    lost: AbortSignal,
  ): Promise<NoteRecording[]> {
    const max = this.config.env.RSB_MAX_ATTACHMENT_BYTES ?? writer.defaultMaxAttachmentBytes;
    const waitSeconds = this.config.env.RSB_NOTE_RECORDINGS_WAIT_SECONDS;
    const deadline = AbortSignal.timeout(waitSeconds * 1000);
    const out: NoteRecording[] = [];
    // One at a time: the appliance's budget is shared, and the first file is not held up by the others.
    for (const ref of refs) {
      const label = LABEL[ref.kind](ref.downloadInstance);
      const base = { artifact: ref.artifact, label, viewUrl: ref.viewUrl ?? '', downloadUrl: ref.downloadUrl ?? '' };
      if (max === 0) {
        out.push({ ...base, result: 'linked', reason: `${ticket.system} tickets take no file attachments` });
        continue;
      }
      const overCap = `it is larger than the ${human(max)} attachment limit (RSB_MAX_ATTACHMENT_BYTES)`;
      const late = `it was not transferred within ${waitSeconds} s (RSB_NOTE_RECORDINGS_WAIT_SECONDS); rs-bridge keeps transferring it and adds it in its own note`;
      if (deadline.aborted) {
        out.push({ ...base, result: 'failed', reason: late });
        continue;
      }
      let limit: ByteLimit | undefined;
      let size: number | undefined;
      let downloadError: Error | undefined;
      const stop = () => limit?.destroy(new Error('stopped'));
      deadline.addEventListener('abort', stop);
      lost.addEventListener('abort', stop);
      try {
        const staged = await writer.stageFile!(ticket.id, `${lsid}:${ref.artifact}`, async () => {
          const opened = await openRecording(this.beyondtrust, { lsid, ...ref });
          size = opened.contentLength;
          if (size !== undefined && size > max) {
            opened.stream.destroy();
            throw new OverCap(size);
          }
          const counter = new ByteLimit(max, UNREPORTED, size);
          limit = counter;
          opened.stream.on('error', (error) => {
            downloadError = error;
            counter.destroy(error);
          });
          // An upload given up (its deadline, a refusal) closes the download too.
          counter.on('close', () => opened.stream.destroy());
          if (deadline.aborted || lost.aborted) stop();
          const extension = /\.[A-Za-z0-9]{1,8}$/.exec(opened.filename ?? '')?.[0] ?? '.bin';
          return {
            filename: `session-${lsid}-${ref.kind}-${ref.downloadInstance}${extension}`,
            contentType: opened.contentType || 'application/octet-stream',
            stream: opened.stream.pipe(counter),
            length: size,
          };
        });
        if (limit) recordingBytes.inc({ system: ticket.system }, limit.bytes);
        out.push({ ...base, result: 'attached', staged, size: size ?? limit?.bytes });
        this.logger.log(
          `session ${lsid}: ${label} staged for the note on ${ticket.system} ticket ${ticket.number} (${human(size ?? limit?.bytes)})`,
        );
      } catch (error) {
        lost.throwIfAborted();
        if (error instanceof OverCap || limit?.exceeded)
          out.push({ ...base, result: 'linked', reason: overCap, size: size ?? limit?.bytes });
        // The ticket system failing for now (an outage, a 429): the note could not land either, so the pull
        // retries; the files staged so far keep their tokens and are not sent again.
        else if (!deadline.aborted && !downloadError && error instanceof TicketSystemError && error.retryable) throw error;
        // Neither vendor's answer nor the clock: our own store (Redis mid-failover, where the tokens are
        // kept) failed. The pull retries as for an outage, rather than sending the recording off the note.
        else if (
          !deadline.aborted &&
          !downloadError &&
          !(error instanceof TicketSystemError) &&
          !(error instanceof BeyondTrustError) &&
          !(error instanceof DeadlineError)
        )
          throw error;
        else {
          const why = (downloadError ?? (error as Error)).message;
          const reason = deadline.aborted ? late : `its transfer failed (${why}); rs-bridge retries it and adds it in its own note`;
          out.push({ ...base, result: 'failed', reason, size });
          this.logger.warn(`session ${lsid}: ${label} not on the note of ${ticket.system} ticket ${ticket.number}: ${reason}`);
        }
      } finally {
        deadline.removeEventListener('abort', stop);
        lost.removeEventListener('abort', stop);
      }
    }
    return out;
  }
}
