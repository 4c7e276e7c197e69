import type { AxiosRequestConfig } from 'axios';
import { botCallbacks } from '../metrics/metrics';
import { HttpFailure } from '../outbound/http-failure';
import { outboundRequest, OutboundFailure } from '../outbound/http-request';

/** A bot did not take a callback. Read by the job failure policy: a 4xx is permanent, a 429 pauses the queue. */
export class BotCallbackError extends Error {
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(failure: HttpFailure) {
    super(`chat-callback: ${failure.message}`);
    this.name = 'BotCallbackError';
    this.retryable = failure.retryable;
    this.status = failure.status;
    this.retryAfterMs = failure.retryAfterMs;
  }
}

/** One signed callback to a bot: its own client and metric, not the ticket systems'. */
export async function postBotCallback(config: AxiosRequestConfig): Promise<void> {
  try {
    await outboundRequest({ method: 'POST', ...config }, (status) => botCallbacks.inc({ status }));
  } catch (error) {
    if (error instanceof OutboundFailure) throw new BotCallbackError(error.failure);
    throw error;
  }
}
