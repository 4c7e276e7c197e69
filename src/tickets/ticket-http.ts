import type { AxiosRequestConfig, AxiosResponse } from 'axios';
import { ticketRequests } from '../metrics/metrics';
import { outboundRequest, OutboundFailure } from '../outbound/http-request';
import { TicketSystemError } from './ticket-system.errors';

/**
 * One request to a ticket system (or a generic system's callback, which stands for its ticket) under the
 * shared retry policy (outbound/http-failure.ts), counted by system; a failure is a TicketSystemError.
 */
export async function ticketRequest<T = unknown>(system: string, config: AxiosRequestConfig): Promise<AxiosResponse<T>> {
  try {
    return await outboundRequest<T>(config, (status) => ticketRequests.inc({ system, status }));
  } catch (error) {
    if (!(error instanceof OutboundFailure)) throw error;
    const f = error.failure;
    throw new TicketSystemError(system, f.message, f.retryable, f.status, f.retryAfterMs);
  }
}
