import type { JobsOptions } from 'bullmq';
import type { TicketEvent } from '../tickets/ticket-event';

/** Every queue of rs-bridge, with the data its jobs carry (ids and normalised events, never secrets). */
export const QUEUES = {
  ticketEvents: 'ticket-events',
} as const;

export type TicketEventJob = TicketEvent;

/** Retries with exponential backoff and jitter for about a day; then the job stays in the failed set. */
export const TICKET_EVENT_JOB_OPTIONS: JobsOptions = {
  attempts: 15,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: false,
};

/** Flow 2 queues: one pull per ended session, one transfer per recording, and the poll's ticks. */
export const SESSION_QUEUES = {
  sessionEnd: 'session-end',
  recordings: 'recordings',
  sessionPoll: 'session-poll',
} as const;

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
  ticket: { system: 'zendesk' | 'servicenow' | 'generic'; id: string; number: string; callbackUrl?: string };
}

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

/** Flow 3: one tick reads every open escalation; one delivery job at a time per escalation keeps order. */
export const CHAT_QUEUES = {
  watch: 'chat-watch',
  callbacks: 'chat-callbacks',
} as const;
