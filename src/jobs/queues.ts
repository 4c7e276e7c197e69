import type { JobsOptions } from 'bullmq';
import { createHash } from 'node:crypto';
import type { TicketSystemName } from '../config/rules';
import type { TicketEvent } from '../tickets/ticket-event';

/**
 * The one catalogue of rs-bridge's queues. Each has exactly one processor in the worker role (checked
 * at boot, see queue-check.ts) and the job data below (ids and normalised events, never secrets).
 */
export const QUEUES = {
  /** Flow 1 and its siblings: a ticket asks for a session key, a co-browse or a Jump. */
  ticketEvents: 'ticket-events',
  /** Flow 1: a key's write-back (reply, note, or a refusal's note), apart so that keys never wait on a ticket system. */
  ticketWrites: 'ticket-writes',
  /** Flow 2: one pull per ended session. */
  sessionEnd: 'session-end',
  /** Flow 2: one transfer per recording. */
  recordings: 'recordings',
  /** Flow 2: the poll's ticks (the backstop for lost events). */
  sessionPoll: 'session-poll',
  /** Flow 3: one tick reads every open escalation. */
  chatWatch: 'chat-watch',
  /** Flow 3: one delivery job at a time per escalation keeps its callbacks in order. */
  chatCallbacks: 'chat-callbacks',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export const QUEUE_NAMES: readonly QueueName[] = Object.values(QUEUES);

export type TicketEventJob = TicketEvent;

/**
 * A delivery whose key was made (or refused): what its write-back needs to address the ticket and render
 * the templates. The key itself is read from the delivery store, where the event's job recorded it.
 */
export type TicketWriteJob = Pick<TicketEvent, 'system' | 'deliveryId' | 'action' | 'ticket' | 'callbackUrl'> & {
  /**
   * `note`: only the key's internal note, where it is an update of its own. It is a job of its own so that,
   * waiting for the write budget behind the replies, it holds no reply's slot. Unset: the key's update.
   */
  part?: 'note';
};

export type RecordingKind = 'session' | 'showMyScreen' | 'commandShell';

/** Why a session is pulled; the job id says it too, so triggers for the same lsid collapse into one job. */
export interface SessionEndJob {
  lsid: string;
  trigger: 'event' | 'poll' | 'resync' | 'survey';
  externalKey?: string;
}

/** One recording of one session, bound for the ticket its session resolved to. */
export interface RecordingJob {
  lsid: string;
  kind: RecordingKind;
  /** As the report numbers it (keys the artifact); 0 for the session recording. */
  instance: number;
  /** What the download takes, from 0, as read from the report's own numbering (see reporting.client.ts). */
  downloadInstance?: number;
  viewUrl?: string;
  downloadUrl?: string;
  ticket: { system: TicketSystemName; id: string; number: string; callbackUrl?: string };
}

/** A scheduler's tick carries nothing. */
export type SessionPollJob = Record<string, never>;

/**
 * A watch tick; `reason` only says, in the dashboard, what woke it (a real-time change). A scheduled tick
 * reads the escalations that are due; one queued because something happened (`force`) reads all.
 */
export interface ChatWatchJob {
  reason?: string;
  force?: boolean;
}

export interface ChatCallbackJob {
  escalationId: string;
}

/** The data of each queue's jobs: `Job<JobData[Q]>`. */
export interface JobData {
  'ticket-events': TicketEventJob;
  'ticket-writes': TicketWriteJob;
  'session-end': SessionEndJob;
  recordings: RecordingJob;
  'session-poll': SessionPollJob;
  'chat-watch': ChatWatchJob;
  'chat-callbacks': ChatCallbackJob;
}

/**
 * Every job id, made here. An id says what the job is for, so a second trigger for the same work is a
 * no-op (BullMQ keeps the existing job).
 */
export const jobIds = {
  /** A delivery: the same delivery id always maps to the same job, so a redelivery is a no-op. */
  ticketEvent: (event: Pick<TicketEvent, 'system' | 'deliveryId'>): string =>
    `${event.system}-${createHash('sha256').update(event.deliveryId).digest('hex').slice(0, 32)}`,
  /** A delivery's write-back: one per delivery, so a replayed event queues nothing new. */
  ticketWrite: (event: Pick<TicketEvent, 'system' | 'deliveryId'>): string => `write-${jobIds.ticketEvent(event)}`,
  /** A delivery's internal note, where it is written apart from the key's update: one per delivery. */
  ticketWriteNote: (event: Pick<TicketEvent, 'system' | 'deliveryId'>): string => `note-${jobIds.ticketEvent(event)}`,
  /** The end event and the poll share `pull-<lsid>`; a survey or a resync gets its own job. */
  sessionEnd: (job: SessionEndJob, suffix?: string): string => {
    const base = job.trigger === 'event' || job.trigger === 'poll' ? 'pull' : job.trigger;
    return [base, job.lsid, suffix].filter(Boolean).join('-');
  },
  recording: (lsid: string, kind: RecordingKind, instance: number): string => `rec-${lsid}-${kind}-${instance}`,
  /** One waiting delivery per escalation: a job already waiting keeps the order. */
  chatDelivery: (escalationId: string): string => `deliver-${escalationId}`,
};

/** Retries with exponential backoff and jitter for about a day; then the job stays in the failed set. */
export const TICKET_EVENT_JOB_OPTIONS: JobsOptions = {
  attempts: 15,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: false,
};

/** A write-back retries like the event that made its key: a ticket system down for hours is waited out. */
export const TICKET_WRITE_JOB_OPTIONS: JobsOptions = { ...TICKET_EVENT_JOB_OPTIONS };

/**
 * A key's internal note written apart: BullMQ takes jobs without a priority before any with one, so a
 * waiting key reply is always taken before a note, whenever the note was queued.
 */
export const TICKET_WRITE_NOTE_JOB_OPTIONS: JobsOptions = { ...TICKET_WRITE_JOB_OPTIONS, priority: 10 };

/** A bot's callbacks: ten quick tries, then the outbox waits for the next tick's delivery job. */
export const CHAT_CALLBACK_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
  removeOnComplete: true,
  removeOnFail: true,
};

/**
 * Exponential backoff (2 s doubling, with jitter) capped at one hour between attempts, with as many
 * attempts as fit in `hours`: a ticket system down for an afternoon is retried hourly, not once a day.
 */
export const CAPPED_BACKOFF = 'capped-exponential';
const BACKOFF_BASE_MS = 2_000;
const BACKOFF_CAP_MS = 3_600_000;

export function cappedBackoffDelay(attemptsMade: number, random = Math.random): number {
  const raw = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(raw * (0.75 + random() * 0.5));
}

export function sessionJobOptions(hours: number): JobsOptions {
  let attempts = 1;
  for (let total = 0; total < hours * 3_600_000; attempts += 1) total += Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempts - 1));
  return {
    attempts,
    backoff: { type: CAPPED_BACKOFF },
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: false,
  };
}
