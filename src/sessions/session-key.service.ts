import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { BeyondTrustError } from '../beyondtrust/beyondtrust.errors';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { SessionKey } from '../beyondtrust/command.types';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { liquid } from '../config/rules';
import { queueDurably } from '../jobs/enqueue';
import { jobIds, QUEUES, TICKET_WRITE_JOB_OPTIONS, TICKET_WRITE_NOTE_JOB_OPTIONS, TicketWriteJob } from '../jobs/queues';
import { TicketEvent } from '../tickets/ticket-event';
import { TicketSystemError } from '../tickets/ticket-system.errors';
import { renderFields, TicketUpdate, TicketWriter, WriteContext } from '../tickets/ticket-writer';
import { TicketsService } from '../tickets/tickets.service';
import { writeOnce } from '../tickets/write-once';
import { DeliveryStore } from './delivery.store';
import { LinkStore, SessionLink } from './link.store';
import { route, Route } from './routing';
import { sessionIdentity } from './session-identity';

export interface SessionKeyOutcome {
  /** The key given to the customer, or undefined when the appliance refused to create one. */
  key?: SessionKey & { route: Route };
  /** The appliance's reason, when it refused; it has been (or will be) written to the ticket as an internal note. */
  failure?: string;
  /** The job that writes the key (or the refusal) to the ticket, when the event's job queued one. */
  writeJobId?: string;
}

/** What has been done for a delivery, in the delivery store. */
const STEP = {
  key: 'key',
  failure: 'failure',
  /** The key's link is recorded (and its internal note deferred, when it is). */
  link: 'link',
  publicReply: 'publicReply',
  internalNote: 'internalNote',
  failureNote: 'failureNote',
  writeFailedNote: 'writeFailedNote',
  /** The key's internal note, written apart, failed for good (the reply landed). */
  noteFailedNote: 'noteFailedNote',
} as const;

/** The internal-note step's value when the note rides on the session's first note (link.keyNote). */
const DEFERRED = 'deferred';

/**
 * What the key's update carried, as its step's value. A value that is no such object ('1') was recorded
 * by a release that wrote the reply alone and put the fields and tags on the internal note.
 */
interface KeyUpdateDone {
  extras?: boolean;
  note?: boolean;
}
/** The key's internal note as an update of its own, with what the key's update left to it; nothing when both are empty. */
const noteUpdate = (note: string, left: Pick<TicketUpdate, 'fields' | 'addTags'>): TicketUpdate | undefined =>
  note || Object.keys(left).length ? { comment: note ? { body: note, public: false } : undefined, ...left } : undefined;

const keyUpdateDone = (raw: string | undefined): KeyUpdateDone => {
  try {
    const value = JSON.parse(raw ?? '') as unknown;
    return value && typeof value === 'object' ? (value as KeyUpdateDone) : {};
  } catch {
    return {};
  }
};

/**
 * Flow 1, ticket → session key: route the ticket to a queue, create the key with the ticket's external
 * key and custom fields, link ticket ↔ external key ↔ short key, and write the key back to the ticket.
 * The event's job makes the key and queues the write-back as a job of its own, so a ticket system's
 * pacing never holds the next ticket's key. Every step is recorded after it succeeds, so running the same
 * delivery again does nothing twice.
 */
@Injectable()
export class SessionKeyService {
  private readonly logger = new Logger('SessionKey');

  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly tickets: TicketsService,
    private readonly deliveries: DeliveryStore,
    private readonly links: LinkStore,
    @InjectQueue(QUEUES.ticketWrites) private readonly writes: Queue<TicketWriteJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The ticket-events job: the key first, then its write-back queued (durably) as a job of its own.
   * `signal` (the job's lock lost: another worker runs the event) stops it before its next write.
   */
  async handleEvent(event: TicketEvent, signal?: AbortSignal): Promise<SessionKeyOutcome> {
    const outcome = await this.makeKey(event, signal);
    signal?.throwIfAborted();
    const data: TicketWriteJob = {
      system: event.system,
      deliveryId: event.deliveryId,
      action: event.action,
      ticket: event.ticket,
      ...(event.callbackUrl ? { callbackUrl: event.callbackUrl } : {}),
    };
    const writeJobId = await queueDurably(this.writes, 'write-back', data, {
      ...TICKET_WRITE_JOB_OPTIONS,
      ...this.config.jobRetry,
      jobId: jobIds.ticketWrite(event),
    });
    return { ...outcome, writeJobId };
  }

  /** The synchronous API: the key and its write-back in one call, so the caller hears of a ticket that cannot be written. */
  async handle(event: TicketEvent): Promise<SessionKeyOutcome> {
    await this.makeKey(event);
    return this.writeBack(event, undefined, 'inline');
  }

  /** The key (or the appliance's refusal) and the key's link, each recorded once per delivery. */
  async makeKey(event: TicketEvent, signal?: AbortSignal): Promise<SessionKeyOutcome> {
    const writer = this.tickets.requireWriter(event.system);
    const done = await this.deliveries.get(event.system, event.deliveryId);
    let key = done[STEP.key] ? (JSON.parse(done[STEP.key]) as SessionKeyOutcome['key']) : undefined;
    let failure = done[STEP.failure];
    if (!key && failure === undefined) {
      signal?.throwIfAborted();
      try {
        key = await this.createKey(event);
        await this.deliveries.mark(event.system, event.deliveryId, STEP.key, JSON.stringify(key));
      } catch (error) {
        // The appliance said no (unknown queue, bad field): tell the agent on the ticket, do not retry.
        if (!(error instanceof BeyondTrustError) || error.retryable) throw error;
        failure = error.message;
        await this.deliveries.mark(event.system, event.deliveryId, STEP.failure, failure);
        await this.links.recordRefusal({
          system: event.system,
          ticketId: event.ticket.id,
          ticketNumber: event.ticket.number,
          createdAt: new Date().toISOString(),
          failure,
        });
      }
    }
    if (!key) return { failure };
    signal?.throwIfAborted();
    if (!done[STEP.link]) await this.recordLink(event, key, writer);
    this.logger.log(`${event.system} ticket ${event.ticket.number}: session key ${key.shortKey} in ${key.route.queueId}`);
    return { key };
  }

  /**
   * The link the session-end flow finds the ticket by. Where the key's internal note is deferred, it is
   * rendered now and kept on the link, and the key is watched until it expires, so the note lands on the
   * session's first note or, if no session comes, when the key expires (key-expiry.service.ts).
   */
  private async recordLink(event: TicketEvent, key: NonNullable<SessionKeyOutcome['key']>, writer: TicketWriter): Promise<void> {
    const rules = this.config.rules;
    let keyNote: string | undefined;
    if (this.defersNote(writer, key)) {
      const values = { ticket: { ...event.ticket, system: event.system }, key: this.keyContext(key) };
      keyNote = (await liquid.parseAndRender(rules.writeBack.internalNote, values)).trim() || undefined;
    }
    const link: SessionLink = {
      system: event.system,
      ticketId: event.ticket.id,
      ticketNumber: event.ticket.number,
      ticketUrl: event.ticket.url,
      callbackUrl: event.callbackUrl,
      externalKey: key.externalKey ?? '',
      shortKey: key.shortKey,
      createdAt: new Date().toISOString(),
      keyUrl: key.keyUrl,
      expiresAt: key.expires?.iso,
      queue: key.route.queueId,
      ...(keyNote ? { keyNote } : {}),
    };
    await this.links.record(link);
    if ((rules.outcomes.expiredKey || keyNote) && link.expiresAt) await this.links.watchExpiry({ ...link, expiresAt: link.expiresAt });
    await this.deliveries.markAll(event.system, event.deliveryId, {
      [STEP.link]: '1',
      ...(keyNote ? { [STEP.internalNote]: DEFERRED } : {}),
    });
  }

  /**
   * Whether the key's internal note waits for the session's first note. Only a key with an expiry, while
   * the poll runs (it watches expiries), may wait: otherwise nothing would bring a note whose key no
   * session used.
   */
  private defersNote(writer: TicketWriter, key: NonNullable<SessionKeyOutcome['key']>): boolean {
    const timing = this.config.rules.writeBack.internalNoteTiming;
    const wanted = timing === 'auto' ? (writer.replyNoteCost === 'update' ? 'withSessionEnd' : 'withKey') : timing;
    return wanted === 'withSessionEnd' && Boolean(key.expires?.iso) && this.config.env.BT_POLL_INTERVAL_SECONDS > 0;
  }

  /**
   * The ticket-writes job: the key's update (public reply, fields and tags, and the internal note where one
   * update carries both); or the refusal's note. Where the internal note must be an update of its own and
   * is not deferred, it is queued as a job of its own (`part: 'note'`) that waits in the pacer's batch
   * lane: a note waiting for the write budget must not hold a slot a key's reply could use. The
   * synchronous API (`noteApart: 'inline'`) writes it at once, as its caller waits. `signal` stops a write
   * once the lock it runs under is lost.
   */
  async writeBack(job: TicketWriteJob, signal?: AbortSignal, noteApart: 'job' | 'inline' = 'job'): Promise<SessionKeyOutcome> {
    if (job.part === 'note') return this.writeNoteApart(job, signal);
    const writer = this.tickets.requireWriter(job.system);
    const done = await this.deliveries.get(job.system, job.deliveryId);
    const key = done[STEP.key] ? (JSON.parse(done[STEP.key]) as SessionKeyOutcome['key']) : undefined;
    const failure = done[STEP.failure];
    const context = { ticket: { ...job.ticket, system: job.system } };
    const rules = this.config.rules.writeBack;

    if (key) {
      const values = { ...context, key: this.keyContext(key) };
      const reply = (await liquid.parseAndRender(rules.publicReply, values)).trim();
      const note = done[STEP.internalNote] ? '' : (await liquid.parseAndRender(rules.internalNote, values)).trim();
      const extras = await this.keyExtras(writer, values);
      // The note rides on the key's update where one update carries both, or where there is no reply.
      const noteRides = Boolean(note) && (writer.replyNoteCost === 'shared' || !reply);
      await this.step(
        done,
        job,
        STEP.publicReply,
        writer,
        async () => {
          if (reply) return { comment: { body: reply, public: true }, ...extras, ...(noteRides ? { note } : {}) };
          if (note) return { comment: { body: note, public: false }, ...extras };
          return Object.keys(extras).length ? extras : undefined;
        },
        JSON.stringify({ extras: true, note: noteRides } satisfies KeyUpdateDone),
        signal,
      );
      const carried = done[STEP.publicReply] ? keyUpdateDone(done[STEP.publicReply]) : { extras: true, note: noteRides };
      if (!carried.note && !done[STEP.internalNote]) {
        const update = noteUpdate(note, carried.extras ? {} : extras);
        if (!update) await this.deliveries.mark(job.system, job.deliveryId, STEP.internalNote, '1');
        else if (noteApart === 'inline') await this.step(done, job, STEP.internalNote, writer, async () => update, '1', signal);
        else {
          const { system, deliveryId, action, ticket, callbackUrl } = job;
          await queueDurably(
            this.writes,
            'write-note',
            { system, deliveryId, action, ticket, ...(callbackUrl ? { callbackUrl } : {}), part: 'note' } satisfies TicketWriteJob,
            { ...TICKET_WRITE_NOTE_JOB_OPTIONS, ...this.config.jobRetry, jobId: jobIds.ticketWriteNote(job) },
          );
        }
      }
      this.logger.log(`${job.system} ticket ${job.ticket.number}: session key ${key.shortKey} written back`);
      return { key };
    }
    if (failure === undefined)
      throw new TicketSystemError(job.system, `delivery ${job.deliveryId} has no key or refusal recorded to write back`, false);

    await this.step(
      done,
      job,
      STEP.failureNote,
      writer,
      async () => ({
        comment: {
          body: (await liquid.parseAndRender(rules.failureNote, { ...context, error: { message: failure } })).trim(),
          public: false,
        },
      }),
      '1',
      signal,
    );
    this.logger.warn(`${job.system} ticket ${job.ticket.number}: no session key: ${failure}`);
    return { failure };
  }

  /**
   * The key's internal note as a job of its own, queued once the key's update is done: in the batch lane,
   * so every key reply waiting for the budget goes first. Written once under the same step the key's job
   * would have written it under, however often this job runs.
   */
  private async writeNoteApart(job: TicketWriteJob, signal?: AbortSignal): Promise<SessionKeyOutcome> {
    const writer = this.tickets.requireWriter(job.system);
    const done = await this.deliveries.get(job.system, job.deliveryId);
    const key = done[STEP.key] ? (JSON.parse(done[STEP.key]) as NonNullable<SessionKeyOutcome['key']>) : undefined;
    if (!key) throw new TicketSystemError(job.system, `delivery ${job.deliveryId} has no key recorded to write the note of`, false);
    if (done[STEP.internalNote]) return { key };
    const values = { ticket: { ...job.ticket, system: job.system }, key: this.keyContext(key) };
    const note = (await liquid.parseAndRender(this.config.rules.writeBack.internalNote, values)).trim();
    // A reply written by a release that put the fields and tags on the note left them to it.
    const left = keyUpdateDone(done[STEP.publicReply]).extras ? {} : await this.keyExtras(writer, values);
    await this.step(done, job, STEP.internalNote, writer, async () => noteUpdate(note, left), '1', signal, 'batch');
    this.logger.log(`${job.system} ticket ${job.ticket.number}: the internal note of session key ${key.shortKey} written`);
    return { key };
  }

  /** The write-back rules' fields (rendered) and tags for this system. */
  private async keyExtras(writer: TicketWriter, values: object): Promise<Pick<TicketUpdate, 'fields' | 'addTags'>> {
    const { fields: fieldTemplates, tags } = writer.writeBackExtras(this.config.rules.writeBack);
    const fields = await renderFields(fieldTemplates, (template) => liquid.parseAndRender(template, values));
    return {
      ...(Object.keys(fields).length ? { fields } : {}),
      ...(tags?.length ? { addTags: tags } : {}),
    };
  }

  /**
   * A write-back that failed for good: logged with its ids and, where the ticket still takes a note, said
   * on it (the customer may not have the key). The note is a courtesy: its own failure is only logged.
   */
  async reportWriteFailure(job: TicketWriteJob, error: Error): Promise<void> {
    const done = await this.deliveries.get(job.system, job.deliveryId).catch(() => ({}) as Record<string, string>);
    const key = done[STEP.key] ? (JSON.parse(done[STEP.key]) as NonNullable<SessionKeyOutcome['key']>) : undefined;
    if (job.part === 'note') return this.reportNoteFailure(job, done, key, error);
    const what = key ? `session key ${key.shortKey}` : 'the refusal of a session key';
    this.logger.error(
      `${job.system} ticket ${job.ticket.number} (delivery ${job.deliveryId}): ${what} could not be written to the ticket: ${error.message}`,
    );
    if (!key) return;
    try {
      const writer = this.tickets.requireWriter(job.system);
      await this.step(done, job, STEP.writeFailedNote, writer, async () => ({
        comment: {
          body: `rs-bridge created session key ${key.shortKey} (${key.keyUrl}) but could not write it to this ticket: ${error.message}. The customer may not have received it.`,
          public: false,
        },
      }));
    } catch (noteError) {
      this.logger.warn(
        `${job.system} ticket ${job.ticket.number}: the note saying so could not be written either: ${(noteError as Error).message}`,
      );
    }
  }

  /**
   * A key's internal note, written apart, that failed for good: the reply reached the customer, so only
   * the agents' note is missing; said once on the ticket where it still takes a note, else only logged.
   */
  private async reportNoteFailure(
    job: TicketWriteJob,
    done: Record<string, string>,
    key: SessionKeyOutcome['key'],
    error: Error,
  ): Promise<void> {
    const where = `${job.system} ticket ${job.ticket.number} (delivery ${job.deliveryId})`;
    this.logger.error(`${where}: the internal note of session key ${key?.shortKey ?? '?'} could not be written: ${error.message}`);
    if (!key) return;
    try {
      const writer = this.tickets.requireWriter(job.system);
      await this.step(done, job, STEP.noteFailedNote, writer, async () => ({
        comment: {
          body: `rs-bridge wrote session key ${key.shortKey} (${key.keyUrl}) to this ticket, but not its internal note: ${error.message}.`,
          public: false,
        },
      }));
    } catch (noteError) {
      this.logger.warn(`${where}: the note saying so could not be written either: ${(noteError as Error).message}`);
    }
  }

  /**
   * A ticket event that failed for good (the appliance down past its retries, its workers dying under it):
   * logged and said on the ticket once, in the words of the write-back's own notes, under the same step
   * where the write-back could write that note too, so the ticket never gets both. A key already made
   * (its write-back could not be queued) is named, as a failed write-back names it. When the ticket system
   * is what fails, the note fails too: only logged.
   */
  async reportEventFailure(event: TicketEvent, error: Error): Promise<void> {
    const where = `${event.system} ticket ${event.ticket.number} (delivery ${event.deliveryId})`;
    this.logger.error(`${where}: the session key request failed for good: ${error.message}`);
    try {
      const writer = this.tickets.requireWriter(event.system);
      const done = await this.deliveries.get(event.system, event.deliveryId);
      const key = done[STEP.key] ? (JSON.parse(done[STEP.key]) as NonNullable<SessionKeyOutcome['key']>) : undefined;
      if (key) {
        await this.step(done, event, STEP.writeFailedNote, writer, async () => ({
          comment: {
            body: `rs-bridge created session key ${key.shortKey} (${key.keyUrl}) but could not queue writing it to this ticket: ${error.message}. The customer may not have received it.`,
            public: false,
          },
        }));
        return;
      }
      // A refusal recorded is the write-back's own failure note; anything else is the reason it gave up.
      const refusal = done[STEP.failure];
      const message = refusal ?? error.message;
      const body = (
        await liquid.parseAndRender(this.config.rules.writeBack.failureNote, {
          ticket: { ...event.ticket, system: event.system },
          error: { message },
        })
      ).trim();
      if (refusal !== undefined) await this.step(done, event, STEP.failureNote, writer, async () => ({ comment: { body, public: false } }));
      else await this.deliveries.giveUpNote(event, writer, body);
    } catch (noteError) {
      this.logger.warn(`${where}: the note saying so could not be written either: ${(noteError as Error).message}`);
    }
  }

  private async createKey(event: TicketEvent): Promise<SessionKeyOutcome['key']> {
    const rules = this.config.rules;
    const chosen = route(event, rules);
    const { externalKey, custom } = await sessionIdentity(rules, event);
    const key = await this.beyondtrust.command.generateSessionKey({
      queueId: chosen.queueId,
      externalKey: externalKey || undefined,
      custom,
      priority: chosen.priority,
      skills: chosen.skills,
      ttl: rules.sessionKey.ttl,
      urlHostname: rules.sessionKey.urlHostname,
    });
    return { ...key, externalKey: key.externalKey ?? externalKey, route: chosen };
  }

  private keyContext(key: NonNullable<SessionKeyOutcome['key']>) {
    return {
      shortKey: key.shortKey,
      url: key.keyUrl,
      site: new URL(key.keyUrl).host,
      expiresAt: key.expires?.iso ?? '',
      ttl: key.ttl,
      queue: key.route.queueId,
      queueType: key.queue.type,
      available: key.queue.available,
      externalKey: key.externalKey,
      rule: key.route.rule,
    };
  }

  /**
   * One write on the ticket, done once per delivery even across a crash (writeOnce): the public reply is
   * recognised by its body, which holds the short key; internal notes by our marker; fields and tags are
   * set again, which is harmless.
   */
  private async step(
    done: Record<string, string>,
    job: TicketWriteJob,
    step: string,
    writer: TicketWriter,
    build: () => Promise<TicketUpdate | undefined>,
    value = '1',
    signal?: AbortSignal,
    lane?: WriteContext['lane'],
  ): Promise<void> {
    if (done[step]) return;
    const update = await build();
    if (!update) return this.deliveries.mark(job.system, job.deliveryId, step, value);
    await writeOnce(
      this.deliveries.ledger(job.system, job.deliveryId),
      step,
      writer,
      {
        ticketId: job.ticket.id,
        context: { deliveryId: job.deliveryId, step, callbackUrl: job.callbackUrl, ...(lane ? { lane } : {}) },
      },
      { update },
      { value, signal },
    );
  }
}
