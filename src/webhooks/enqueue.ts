import { HttpStatus } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { ApiError } from '../http/api-error';
import { TICKET_EVENT_JOB_OPTIONS } from '../queues';
import { TicketEvent } from '../tickets/ticket-event';

/** The job id of a delivery: the same delivery id always maps to the same job, so a redelivery is a no-op. */
export const jobIdFor = (event: Pick<TicketEvent, 'system' | 'deliveryId'>): string =>
  `${event.system}-${createHash('sha256').update(event.deliveryId).digest('hex').slice(0, 32)}`;

/** Enqueues durably or answers 503: a webhook is acknowledged only once its job is in Redis. */
export async function enqueueTicketEvent(queue: Queue, event: TicketEvent): Promise<string> {
  const jobId = jobIdFor(event);
  try {
    // add() with a jobId that exists returns the existing job instead of creating a second one.
    await queue.add(event.action, event, { ...TICKET_EVENT_JOB_OPTIONS, jobId });
  } catch (error) {
    throw new ApiError(
      HttpStatus.SERVICE_UNAVAILABLE,
      'queue_unavailable',
      'The request could not be queued (Redis is unavailable); retry later.',
      {
        reason: (error as Error).message,
      },
    );
  }
  return jobId;
}
