import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Readable } from 'node:stream';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { SupportSessionReport } from '../beyondtrust/reporting.types';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { liquid, liquidHtml } from '../config/rules';
import { ReportBatcher } from './report-batcher';
import { jobIds, RecordingJob, QUEUES, SessionEndJob, sessionJobOptions } from '../jobs/queues';
import { RedisService } from '../redis/redis.service';
import { TicketSystemError } from '../tickets/ticket-system.errors';
import { StagedFile, TicketFile, TicketWriter } from '../tickets/ticket-writer';
import { TicketsService } from '../tickets/tickets.service';
import { writeMarker, writeOnce } from '../tickets/write-once';
import { NoteRecording, NoteRecordings } from './note-recordings';
import { human } from './recording-files';
import { ArtifactStore, KEY_NOTE_STEP, keyNoteScope, SessionStateStore } from './session-stores';
import { Locks } from '../redis/locks';
import { awaitQueueReplica } from '../redis/redis-options';
import { ResolvedTicket, TicketResolver } from './ticket-resolver';
import { TicketSessionsStore } from './ticket-sessions.store';
import { chooseOutcome, outcomeFacts, outcomeUpdate } from './outcomes';
import { recordingsOf, SessionView, sessionView, splitNote } from './transcript';

export interface PullOutcome {
  ticket?: { system: string; id: string; number: string; via: string };
  skipped?: string;
  written: string[];
  recordingsQueued: string[];
  /** Recordings attached to (or linked from) the session's note itself. */
  recordingsOnNote?: string[];
}

/** A pull that should run again later (report not ready, another pull of the session running). */
export class RetryLaterError extends Error {
  readonly retryable = true;
}

/** A pull that can never succeed as it is; the job stops retrying and keeps this reason. */
export class GiveUpError extends Error {
  readonly retryable = false;
}

/** The session's artifact that says which of its notes carries the key note, when it is not its first note. */
const KEY_NOTE_ON = 'keyNoteOn';

/** The session that holds a key note's claim (its lsid), if a session holds it and the claim reads. */
const claimant = (claim: string | undefined): string | undefined => {
  try {
    return (JSON.parse(claim ?? '{}') as { lsid?: string }).lsid;
  } catch {
    return undefined;
  }
};

/** How many attempts a session without an end time (still closing) gets before it is written as it is. */
const END_TIME_ATTEMPTS = 3;
/** How many attempts an lsid the appliance does not know gets (its report may lag the end event). */
const UNKNOWN_SESSION_ATTEMPTS = 5;

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** What marks a session's note on its ticket (the write-once marker, scoped by lsid). */
export const noteMarker = (lsid: string, artifact: string) => writeMarker(lsid, artifact);

/**
 * Flow 2, the pull: the session's report → the ticket it belongs to → an internal note with the
 * transcript attached, surveys, and one transfer job per recording. Every write is keyed by lsid +
 * artifact and recorded after it landed; a write begun but not recorded (a crash) is looked for on the
 * ticket before it is made again.
 */
@Injectable()
export class SessionEndService {
  private readonly logger = new Logger('SessionEnd');

  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly tickets: TicketsService,
    private readonly resolver: TicketResolver,
    private readonly artifacts: ArtifactStore,
    private readonly states: SessionStateStore,
    private readonly locks: Locks,
    private readonly redis: RedisService,
    private readonly ticketSessions: TicketSessionsStore,
    private readonly reports: ReportBatcher,
    private readonly noteRecordings: NoteRecordings,
    @InjectQueue(QUEUES.recordings) private readonly recordings: Queue<RecordingJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `queuedAt` (ms): when the trigger was queued, so a report fetched ahead after it may serve the pull. */
  async pull(job: SessionEndJob, attemptsMade = 0, queuedAt?: number): Promise<PullOutcome> {
    const result = await this.locks.withLock(`session:${job.lsid}`, (lost) => this.pullLocked(job, attemptsMade, lost, queuedAt));
    if (!result.ran) throw new RetryLaterError(`another pull of session ${job.lsid} is running`);
    return result.value;
  }

  /** `lost` aborts when the session's lock was lost: another pull may be writing, so this one stops. */
  private async pullLocked(job: SessionEndJob, attemptsMade: number, lost: AbortSignal, queuedAt?: number): Promise<PullOutcome> {
    const { lsid } = job;
    // The event names the session's external key: one that leads nowhere costs no report (as the poller
    // filters before it enqueues). A resync is asked for by a person and always pulls.
    if ((job.trigger === 'event' || job.trigger === 'survey') && !(await this.leadsToTicket(job))) {
      await this.redis.connection.hincrby(this.redis.key('stats'), 'sessions.skipped', 1);
      await this.states.update(lsid, { state: 'ended' });
      this.logger.log(`session ${lsid}: skipped before its report, external key "${job.externalKey ?? ''}" resolves to no ticket`);
      return { skipped: 'no ticket for the external key', written: [], recordingsQueued: [] };
    }
    // A retry (attemptsMade > 0) asks afresh: what was fetched for the first attempt did not do.
    const report = await this.reports.report(lsid, lost, attemptsMade > 0 ? Date.now() : queuedAt);
    if (!report) {
      const message = `the appliance has no report for session ${lsid}`;
      if (attemptsMade + 1 < UNKNOWN_SESSION_ATTEMPTS) throw new RetryLaterError(`${message} (yet)`);
      throw new GiveUpError(message);
    }
    if (!report.endTime && attemptsMade + 1 < END_TIME_ATTEMPTS) throw new RetryLaterError(`session ${lsid} has not ended yet`);

    const view = sessionView(report);
    const ticket = await this.resolver.findOrCreate(report.externalKey ?? job.externalKey, view);
    if (!ticket) {
      await this.redis.connection.hincrby(this.redis.key('stats'), 'sessions.skipped', 1);
      await this.states.update(lsid, { state: 'ended', endedAt: report.endTime?.iso });
      this.logger.log(`session ${lsid}: skipped, external key "${report.externalKey ?? ''}" resolves to no ticket`);
      return { skipped: 'no ticket for the external key', written: [], recordingsQueued: [] };
    }
    const writer = this.tickets.requireWriter(ticket.system);
    await this.states.update(lsid, {
      state: 'ended',
      startedAt: report.startTime?.iso,
      endedAt: report.endTime?.iso,
      ticket: `${ticket.system}:${ticket.id}`,
    });
    await this.ticketSessions.add(ticket.system, ticket.id, lsid, report.startTime ? Date.parse(report.startTime.iso) : undefined);

    const done = await this.artifacts.done(lsid);
    const written: string[] = [];
    const write = async (artifact: string, note: Parameters<SessionEndService['writeOnce']>[4]) => {
      if (done[artifact]) return;
      if ((await this.writeOnce(lsid, artifact, writer, ticket, note, lost)) === 'written') written.push(artifact);
      done[artifact] = '1';
    };

    let recordingsOnNote: NoteRecording[] = [];
    if (!done.note) {
      // Where the system takes several files on one comment, the recordings ride on the note: one update.
      const onNote = this.noteRecordings.takes(writer);
      const refs = onNote ? recordingsOf(report).filter((r) => !done[r.artifact]) : [];
      if (refs.length)
        recordingsOnNote = await this.noteRecordings.plan(
          lsid,
          refs,
          ticket,
          writer,
          async () => Boolean(done['note.1']) || writer.hasWritten(ticket.id, noteMarker(lsid, 'note.1'), 'internal'),
          lost,
        );
      const keyNote = await this.keyNoteFor(ticket, lsid, writer, done);
      const parts = await this.renderNote({ ...view, recordingsOnNote: onNote }, writer, keyNote, recordingsOnNote);
      const transcript = await this.transcriptFile({ ...view, recordingsOnNote: onNote }, writer);
      const staged = recordingsOnNote.flatMap((r) => (r.result === 'attached' ? [r.staged] : []));
      for (const [i, part] of parts.entries()) {
        await write(`note.${i + 1}`, {
          text: part.text,
          html: part.html,
          files: i === 0 ? [transcript] : [],
          staged: i === 0 ? staged : [],
        });
      }
      // As the note says: attached or linked there is done; a failed one is queued below and follows on its own.
      for (const r of recordingsOnNote) {
        if (r.result === 'failed') continue;
        const how = r.result === 'attached' ? { attached: [r.staged.filename] } : { linked: r.reason };
        await this.artifacts.mark(lsid, r.artifact, JSON.stringify({ at: new Date().toISOString(), onNote: true, ...how }));
        done[r.artifact] = '1';
      }
      // The surveys already in the report are in the note; later ones get their own note.
      for (const who of ['customer', 'rep'] as const) {
        if (!view.surveys[who].length) continue;
        await this.artifacts.mark(lsid, `survey:${who}`, 'in note');
        done[`survey:${who}`] = 'in note';
      }
      await this.artifacts.mark(lsid, 'note', JSON.stringify({ parts: parts.length, ticket: `${ticket.system}:${ticket.id}` }));
    }
    for (const who of ['customer', 'rep'] as const) {
      const answers = view.surveys[who];
      if (!answers.length) continue;
      const text = (
        await liquid.parseAndRender(this.config.rules.sessionEnd.surveyNote, { session: view, survey: { who, answers } })
      ).trim();
      await write(`survey:${who}`, { text });
    }

    await this.applyOutcome(report, view, ticket, writer, done, write, lost);
    const recordingsQueued = await this.queueRecordings(report, ticket, done);
    this.logger.log(
      `session ${lsid} → ${ticket.system} ticket ${ticket.number}: wrote ${written.join(', ') || 'nothing new'}; ${recordingsOnNote.length} recording(s) on the note, ${recordingsQueued.length} queued`,
    );
    return {
      ticket: { system: ticket.system, id: ticket.id, number: ticket.number, via: ticket.via },
      written,
      recordingsQueued,
      recordingsOnNote: recordingsOnNote.filter((r) => r.result !== 'failed').map((r) => r.artifact),
    };
  }

  /**
   * The session key's internal note, when the link the session resolved to carries one and no other
   * session's note (nor the key's expiry) claimed it first: it begins this session's note.
   */
  private async keyNoteFor(
    ticket: ResolvedTicket,
    lsid: string,
    writer: TicketWriter,
    done: Record<string, string>,
  ): Promise<string | undefined> {
    if (!ticket.keyNote || !ticket.shortKey) return undefined;
    const scope = keyNoteScope(ticket.system, ticket.id, ticket.shortKey);
    const stands = await this.artifacts.claim(scope, KEY_NOTE_STEP, JSON.stringify({ lsid, at: new Date().toISOString() }));
    if (claimant(stands) !== lsid) return undefined;
    // A pull of a session that failed for good before (a resync): its failure note may carry the key note.
    if (done[KEY_NOTE_ON] === 'failureNote' && (done.failureNote || (await writer.hasWritten(ticket.id, noteMarker(lsid, 'failureNote')))))
      return undefined;
    return ticket.keyNote;
  }

  /**
   * The key note this session claimed for its note when that note never landed: the failure note carries
   * it instead. Nothing else would: the key's expiry path finds the claim taken and leaves it to this
   * session. A note begun by a run that died may have landed; the ticket is asked.
   */
  private async keyNoteLeftBy(
    ticket: ResolvedTicket,
    lsid: string,
    writer: TicketWriter,
    done: Record<string, string>,
  ): Promise<string | undefined> {
    if (!ticket.keyNote || !ticket.shortKey || done['note.1']) return undefined;
    const claim = (await this.artifacts.done(keyNoteScope(ticket.system, ticket.id, ticket.shortKey)))[KEY_NOTE_STEP];
    if (claimant(claim) !== lsid) return undefined;
    if (await writer.hasWritten(ticket.id, noteMarker(lsid, 'note.1'), 'internal')) return undefined;
    return ticket.keyNote;
  }

  private async leadsToTicket(job: SessionEndJob): Promise<boolean> {
    return (
      (await this.resolver.find(job.externalKey)) !== undefined ||
      this.resolver.wouldCreate(job.externalKey) ||
      (await this.resolver.createdFor(job.lsid)) !== undefined
    );
  }

  /**
   * Outcome rules: the first that matches moves the ticket on (status, fields, a transition), once. None
   * matching changes nothing and is asked again on a later pull (a survey that arrives after the end). A
   * change the ticket system refuses for good (a transition the workflow does not offer) becomes an
   * internal note saying why, and counts as done.
   */
  private async applyOutcome(
    report: SupportSessionReport,
    view: SessionView,
    ticket: ResolvedTicket,
    writer: TicketWriter,
    done: Record<string, string>,
    write: (artifact: string, note: { text: string }) => Promise<void>,
    lost: AbortSignal,
  ): Promise<void> {
    const rules = this.config.rules.outcomes.rules;
    if (!rules.length || done.outcome) return;
    const facts = outcomeFacts(ticket.system, view, report.customers.length);
    const chosen = chooseOutcome(rules, facts);
    if (!chosen) return;
    const name = chosen.rule.name ?? `#${chosen.index + 1}`;
    const values = { session: view, outcome: facts, rule: { name } };
    const note = chosen.rule.note && (await liquid.parseAndRender(chosen.rule.note, values)).trim();
    if (note) await write('outcome.note', { text: note });
    const update = await outcomeUpdate(chosen.rule, writer, values);
    const target = {
      ticketId: ticket.id,
      // Nobody watches an outcome live: it yields to the keys' replies waiting for the write budget.
      context: { deliveryId: `session-${view.lsid}`, step: 'outcome', callbackUrl: ticket.callbackUrl, lane: 'batch' as const },
    };
    const changes = update.status || update.addTags?.length || Object.keys(update.fields ?? {}).length;
    try {
      if (changes) await writeOnce(this.artifacts.ledger(view.lsid), 'outcome', writer, target, { update }, { signal: lost, value: name });
      // A rule with only a note is chosen too: a later pull (a survey) must not choose another.
      else await this.artifacts.mark(view.lsid, 'outcome', name);
    } catch (error) {
      if (!(error instanceof TicketSystemError) || error.retryable) throw error;
      await write('outcome.refused', {
        text: `rs-bridge could not apply outcome rule "${name}" to this ticket after remote support session ${view.lsid}: ${error.message}`,
      });
      await this.artifacts.mark(view.lsid, 'outcome', JSON.stringify({ rule: name, refused: error.message }));
      this.logger.warn(`session ${view.lsid}: outcome rule "${name}" refused by ${ticket.system}: ${error.message}`);
    }
    done.outcome = name;
  }

  /**
   * A pull that failed for good (a refused report, a ticket system refusing the note, retries spent):
   * an internal note on the ticket, found from the external key, says what is missing and how to write it
   * again, once per session. Nothing to say it on when no ticket is known; the job's failure log remains.
   */
  async reportFailure(job: SessionEndJob, error: Error): Promise<void> {
    const { lsid } = job;
    try {
      const state = await this.states.get(lsid);
      const ticket = await this.resolver.find(job.externalKey ?? state.externalKey);
      const writer = ticket && this.tickets.writer(ticket.system);
      if (!ticket || !writer) {
        this.logger.warn(
          `session ${lsid}: failed for good and no ticket is known to say so on (external key "${job.externalKey ?? state.externalKey ?? ''}")`,
        );
        return;
      }
      const done = await this.artifacts.done(lsid);
      const missing = done.note
        ? 'part of what the session adds to the ticket (a survey or a recording note)'
        : 'the transcript of the session (chat, notes, surveys) and its recordings';
      const failure = (
        await liquid.parseAndRender(this.config.rules.sessionEnd.failureNote, {
          session: { lsid, externalKey: job.externalKey ?? state.externalKey },
          error: { message: error.message },
          missing,
          resyncPath: `/api/v1/sessions/${lsid}/resync`,
        })
      ).trim();
      // Rendered each time the give-up runs, but written once (write-once): a second run changes nothing.
      const keyNote = done.failureNote ? undefined : await this.keyNoteLeftBy(ticket, lsid, writer, done);
      const text = [keyNote?.trim(), failure].filter(Boolean).join('\n\n');
      // Said before the write, so a later pull of the session (a resync) looks for this note before it
      // puts the key note on its own.
      if (keyNote) await this.artifacts.mark(lsid, KEY_NOTE_ON, 'failureNote');
      await this.writeOnce(lsid, 'failureNote', writer, ticket, { text });
      this.logger.warn(`session ${lsid}: failed for good; said so on ${ticket.system} ticket ${ticket.number}`);
    } catch (noteError) {
      // The note is a courtesy: the job's own failure (and its log line) must not be masked by it.
      this.logger.warn(`session ${lsid}: failed for good, and the note saying so could not be written: ${(noteError as Error).message}`);
    }
  }

  /** One note of the session, written once (see writeOnce); 'found' when it was there already. */
  async writeOnce(
    lsid: string,
    artifact: string,
    writer: TicketWriter,
    ticket: ResolvedTicket,
    note: { text: string; html?: string; files?: TicketFile[]; staged?: StagedFile[] },
    signal?: AbortSignal,
  ): Promise<'written' | 'found'> {
    // The files' names say, in the ticket's sessions view, that a recording was attached rather than linked.
    const names = [...(note.files ?? []), ...(note.staged ?? [])].map((f) => f.filename);
    const attached = names.length ? { attached: names } : {};
    const result = await writeOnce(
      this.artifacts.ledger(lsid),
      artifact,
      writer,
      { ticketId: ticket.id, context: { deliveryId: `session-${lsid}`, step: artifact, callbackUrl: ticket.callbackUrl } },
      { note },
      { signal, value: JSON.stringify({ at: new Date().toISOString(), ...attached }) },
    );
    return result === 'written' ? 'written' : 'found';
  }

  /**
   * The note: the key's internal note first when it rides here, the template, then what became of the
   * recordings that ride on it (attached, or linked with the reason).
   */
  private async renderNote(
    view: SessionView & { recordingsOnNote?: boolean },
    writer: TicketWriter,
    keyNote: string | undefined,
    recordings: NoteRecording[],
  ): Promise<{ text: string; html?: string }[]> {
    const rules = this.config.rules.sessionEnd;
    // Room for the marker line on every part.
    const max = writer.maxNoteLength - 120;
    const lines: string[] = [];
    for (const r of recordings) {
      if (r.result === 'attached') {
        lines.push(`${r.label[0].toUpperCase()}${r.label.slice(1)} attached: ${r.staged.filename} (${human(r.size)}).`);
        continue;
      }
      const link = await liquid.parseAndRender(rules.recordingLink, {
        session: { lsid: view.lsid },
        recording: { label: r.label, size: human(r.size), reason: r.reason, viewUrl: r.viewUrl, downloadUrl: r.downloadUrl },
      });
      lines.push(link.trim());
    }
    if (writer.markup === 'html') {
      const paragraphs = (text: string) =>
        text
          .split(/\n+/)
          .map((line) => `<p>${escapeHtml(line)}</p>`)
          .join('\n');
      const body = (await liquidHtml.parseAndRender(rules.noteHtml, { session: view })).trim();
      const html = [keyNote && paragraphs(keyNote), body, ...lines.map(paragraphs)].filter(Boolean).join('\n');
      return splitNote(html, max).map((part) => ({ text: '', html: part }));
    }
    const body = (await liquid.parseAndRender(rules.noteText, { session: view })).trim();
    const text = [keyNote?.trim(), body, lines.join('\n')].filter(Boolean).join('\n\n');
    return splitNote(text, max).map((part) => ({ text: part }));
  }

  private async transcriptFile(view: SessionView & { recordingsOnNote?: boolean }, writer: TicketWriter): Promise<TicketFile> {
    const rules = this.config.rules.sessionEnd;
    const html = writer.markup === 'html';
    const content = Buffer.from(
      html
        ? await liquidHtml.parseAndRender(rules.transcriptHtml, { session: view })
        : await liquid.parseAndRender(rules.transcriptText, { session: view }),
      'utf8',
    );
    return {
      filename: `session-${view.lsid}-transcript.${html ? 'html' : 'txt'}`,
      contentType: html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
      open: async () => ({ stream: Readable.from([content]), length: content.length }),
    };
  }

  /** One job per recording not yet written; a failed one (say, after a long outage) is retried. */
  private async queueRecordings(report: SupportSessionReport, ticket: ResolvedTicket, done: Record<string, string>): Promise<string[]> {
    const queued: string[] = [];
    for (const ref of recordingsOf(report)) {
      if (done[ref.artifact]) continue;
      const jobId = jobIds.recording(report.lsid, ref.kind, ref.instance);
      const existing = await this.recordings.getJob(jobId);
      if (existing && (await existing.isFailed())) await existing.retry();
      else if (!existing || (await existing.isCompleted())) {
        if (existing) await existing.remove();
        await this.recordings.add(
          'transfer',
          {
            lsid: report.lsid,
            kind: ref.kind,
            instance: ref.instance,
            downloadInstance: ref.downloadInstance,
            viewUrl: ref.viewUrl,
            downloadUrl: ref.downloadUrl,
            ticket: { system: ticket.system, id: ticket.id, number: ticket.number, callbackUrl: ticket.callbackUrl },
          },
          { ...sessionJobOptions(this.config.env.RSB_SESSION_RETRY_HOURS), ...this.config.jobRetry, jobId },
        );
      }
      queued.push(ref.artifact);
    }
    // The pull completes once these are queued: with Sentinel, they must be on a replica first.
    if (queued.length > 0) await awaitQueueReplica(this.recordings);
    return queued;
  }
}
