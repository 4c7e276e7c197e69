import axios, { AxiosRequestConfig, AxiosResponse } from 'axios';
import { ticketRequests } from '../metrics/metrics';
import { ticketSystemError } from './http-errors';

/**
 * One request to a ticket system under the shared retry policy: answers outside 2xx and no answer at all
 * become TicketSystemErrors (429 waits, 5xx retries, other 4xx gives up). Redirects are not followed:
 * following one would make axios buffer a streamed upload to replay it.
 */
export async function ticketRequest<T = unknown>(system: string, config: AxiosRequestConfig): Promise<AxiosResponse<T>> {
  let response: AxiosResponse<T>;
  try {
    response = await axios.request<T>({
      timeout: 30_000,
      maxRedirects: 0,
      maxBodyLength: Infinity,
      maxContentLength: 16 * 1024 * 1024,
      ...config,
      validateStatus: () => true,
    });
  } catch (error) {
    ticketRequests.inc({ system, status: '0' });
    throw ticketSystemError(system, undefined, error as Error);
  }
  ticketRequests.inc({ system, status: String(response.status) });
  if (response.status < 200 || response.status >= 300) throw ticketSystemError(system, response);
  return response;
}
