import type { JobsOptions } from 'bullmq';
import type { TicketEvent } from './tickets/ticket-event';

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
