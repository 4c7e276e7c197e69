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

/** Basic authentication of `user` with `password`. */
export const basicAuth = (user: string | undefined, password: string | undefined): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The OAuth token as a bearer when there is one, otherwise Basic authentication. */
export const bearerOrBasic = (oauthToken: string | undefined, user: string | undefined, password: string | undefined): string =>
  oauthToken ? `Bearer ${oauthToken}` : basicAuth(user, password);

/** `path` under a base URL configured with or without its trailing slash. */
export const underBase = (base: string, path = ''): string => `${base.replace(/\/$/, '')}${path}`;
