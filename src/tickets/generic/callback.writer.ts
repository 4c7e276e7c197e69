import axios from 'axios';
import { standardWebhookHeaders } from '../../http/standard-webhooks';
import { ticketSystemError } from '../http-errors';
import { TicketUpdate, TicketWriter, WriteContext } from '../ticket-writer';

/**
 * A generic system's "ticket API" is its callback URL: each write is POSTed there, signed the Standard
 * Webhooks way with GENERIC_WEBHOOK_SECRET, with a webhook-id stable per delivery and step so the
 * receiver can drop a repeat. Without a callback URL there is nothing to write (the key is in the link
 * store and the synchronous API).
 */
export class CallbackWriter implements TicketWriter {
  readonly system = 'generic';

  constructor(
    private readonly secret: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async update(ticketId: string, update: TicketUpdate, context?: WriteContext): Promise<void> {
    if (!context?.callbackUrl) return;
    const body = JSON.stringify({ type: 'ticket.update', ticketId, deliveryId: context.deliveryId, step: context.step, ...update });
    let response;
    try {
      response = await axios.post(context.callbackUrl, body, {
        headers: {
          'content-type': 'application/json',
          ...standardWebhookHeaders(this.secret, `${context.deliveryId}.${context.step}`, body),
        },
        timeout: this.timeoutMs,
        validateStatus: () => true,
        maxRedirects: 0,
      });
    } catch (error) {
      throw ticketSystemError(this.system, undefined, error as Error);
    }
    if (response.status < 200 || response.status >= 300) throw ticketSystemError(this.system, response);
  }
}
