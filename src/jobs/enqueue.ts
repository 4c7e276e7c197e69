import { HttpStatus, Logger } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { ApiError } from '../common/api-error';
import { awaitQueueReplica } from '../redis/redis-options';
import { jobIds, TICKET_EVENT_JOB_OPTIONS } from './queues';
import { AppConfig } from '../config/load-config';
import { checkAction } from '../tickets/request-target';
import { TicketEvent } from '../tickets/ticket-event';

/**
 * Seconds a sender is asked to wait after a 503. Zendesk retries a 503 only when it carries Retry-After,
 * and only below 60 seconds; the appliance and Standard Webhooks senders retry on their own schedule.
 */
export const WEBHOOK_RETRY_AFTER_SECONDS = 10;

/**
 * How long a request waits for Redis to store its work. A queue whose connection has not come up yet
 * (Redis away since boot) waits for it rather than failing: the sender gets a 503 after this instead of
 * a request that hangs. A write that lands after the 503 is harmless: the sender's retry carries the
 * same delivery, hence the same job id.
 */
export const STORE_TIMEOUT_MS = 5_000;

const logger = new Logger('Intake');

/** Runs a Redis write or answers 503 with Retry-After: a request is acknowledged only once its work is stored. */
export async function storedOr503<T>(
  work: () => Promise<T>,
  message = 'The request could not be queued (Redis is unavailable); retry later.',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not store it within ${STORE_TIMEOUT_MS} ms`)), STORE_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    // The reason (Redis's address, say) goes to the log, not to whoever sent the request.
    logger.warn(`not stored, answered 503: ${(error as Error).message}`);
    throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'queue_unavailable', message, undefined, {
      'Retry-After': String(WEBHOOK_RETRY_AFTER_SECONDS),
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Adds a job durably or answers 503. add() with a job id that exists returns the existing job instead of
 * creating a second one. With Sentinel, durably means on a replica too: a failover would lose the job.
 */
export async function addDurably<T>(queue: Queue, name: string, data: T, options: JobsOptions & { jobId: string }): Promise<string> {
  await storedOr503(() => queueDurably(queue, name, data, options));
  return options.jobId;
}

/**
 * Adds a job from inside another job: stored (on a replica too, with Sentinel) before the caller goes on,
 * so the job that queued it completes only once its follow-up cannot be lost. A failure fails the caller,
 * which is retried; the same job id makes the retry's add a no-op if the first one landed.
 */
export async function queueDurably<T>(queue: Queue, name: string, data: T, options: JobsOptions & { jobId: string }): Promise<string> {
  await queue.add(name, data, options);
  await awaitQueueReplica(queue);
  return options.jobId;
}

/** Checks what the action needs (Upscope for co-browse, a target for Jump), then enqueues: 400 or 202. */
export function enqueueTicketEvent(queue: Queue, event: TicketEvent, config: AppConfig): Promise<string> {
  checkAction(event, { upscope: Boolean(config.env.UPSCOPE_BASE_URL) });
  return addDurably(queue, event.action, event, { ...TICKET_EVENT_JOB_OPTIONS, ...config.jobRetry, jobId: jobIds.ticketEvent(event) });
}
