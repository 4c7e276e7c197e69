import { applyDecorators, HttpCode, HttpStatus, Inject, Injectable, Post } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { ApiError } from '../common/api-error';
import { countWebhook } from '../http/flood-guard';
import { enqueueTicketEvent } from '../jobs/enqueue';
import { QUEUES } from '../jobs/queues';
import { TicketEvent } from '../tickets/ticket-event';
import { checkBodySize } from './raw-body';

export type WebhookRequest = FastifyRequest & { rawBody?: Buffer };

/** A ticket system's webhook route, `POST /webhooks/<path>`: 202 once queued (200 for a delivery that asks for nothing). */
export const TicketWebhookRoute = (path: string) => applyDecorators(Post(path), HttpCode(HttpStatus.ACCEPTED));

/** What one ticket system's webhook route says; the rest is the same for every system. */
export interface TicketWebhook<C, D> {
  /** What the route needs configured (a base URL, a client), or nothing: then it answers 404 with `notConfigured`. */
  configured: C | undefined | false;
  notConfigured: string;
  /** Checks the sender's proof on the exact bytes it signed; throws what refuses the request. */
  verify(raw: Buffer, configured: C): D;
  /** The event a verified delivery asks for, or why it asks for nothing (answered 200, nothing queued). */
  accept(delivery: D, configured: C): TicketEvent | { ignored: string } | Promise<TicketEvent | { ignored: string }>;
}

/**
 * The intake every ticket webhook shares: 404 unless configured, 413 over RSB_WEBHOOK_MAX_BYTES, the
 * sender's proof, the flood guard's count under the verdict (so rejected requests spend their own
 * allowance), then normalise and enqueue durably before the 202: nothing slow happens here.
 */
@Injectable()
export class TicketWebhooks {
  constructor(
    @InjectQueue(QUEUES.ticketEvents) private readonly queue: Queue,
    @Inject(APP_CONFIG) readonly config: AppConfig,
  ) {}

  async receive<C, D>(
    req: WebhookRequest,
    reply: FastifyReply,
    webhook: TicketWebhook<C, D>,
  ): Promise<{ jobId: string } | { ignored: string }> {
    const { configured } = webhook;
    let delivery: D;
    try {
      if (!configured) throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', webhook.notConfigured);
      delivery = webhook.verify(checkBodySize(req, this.config.env.RSB_WEBHOOK_MAX_BYTES), configured);
    } catch (error) {
      await countWebhook(req, reply, 'rejected');
      throw error;
    }
    await countWebhook(req, reply, 'signed');
    const accepted = await webhook.accept(delivery, configured);
    if ('ignored' in accepted) {
      void reply.status(HttpStatus.OK);
      return { ignored: accepted.ignored };
    }
    return { jobId: await enqueueTicketEvent(this.queue, accepted, this.config) };
  }
}
