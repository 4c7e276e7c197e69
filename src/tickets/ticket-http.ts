import axios, { AxiosRequestConfig, AxiosResponse } from 'axios';
import type { Readable } from 'node:stream';
import { ticketRequests } from '../metrics/metrics';
import { Deadline, DeadlineError, isReadable, watchIdle } from '../outbound/deadline';
import { ticketSystemError } from './http-errors';

/** Deadline of a ticket-system or callback request when the caller names none. */
export const DEFAULT_TICKET_TIMEOUT_MS = 30_000;

/**
 * One request to a ticket system under the shared retry policy: answers outside 2xx and no answer at all
 * become TicketSystemErrors (429 waits, 5xx retries, other 4xx gives up). Redirects are not followed:
 * following one would make axios buffer a streamed upload to replay it.
 *
 * `timeout` is a total deadline (a slow trickle of bytes does not extend it). A streamed upload cannot
 * have one, so it gets an idle watchdog instead (the upload fails once no byte moved for `timeout`) and,
 * once the body is sent, `timeout` again for the answer.
 */
export async function ticketRequest<T = unknown>(system: string, config: AxiosRequestConfig): Promise<AxiosResponse<T>> {
  const { timeout, ...rest } = config;
  const ms = timeout || DEFAULT_TICKET_TIMEOUT_MS;
  const upload = isReadable(rest.data);
  const deadline = new Deadline(ms, `no answer within ${ms} ms`);
  let body: Readable | undefined;
  if (upload) {
    // The body may take longer than any deadline: count from its last byte instead.
    deadline.lift();
    body = watchIdle(rest.data as Readable, ms, () => {
      const stalled = new DeadlineError(`the upload stalled: no byte sent for ${ms} ms`);
      deadline.abort(stalled);
      return stalled;
    });
    body.on('end', () => deadline.restart(`no answer within ${ms} ms after the upload`));
  }
  let response: AxiosResponse<T>;
  try {
    response = await axios.request<T>({
      maxRedirects: 0,
      maxBodyLength: Infinity,
      maxContentLength: 16 * 1024 * 1024,
      ...rest,
      data: body ?? rest.data,
      signal: deadline.signal,
      validateStatus: () => true,
    });
  } catch (error) {
    ticketRequests.inc({ system, status: '0' });
    throw ticketSystemError(system, undefined, deadline.expired ?? (error as Error));
  } finally {
    deadline.lift();
    body?.destroy();
  }
  ticketRequests.inc({ system, status: String(response.status) });
  if (response.status < 200 || response.status >= 300) throw ticketSystemError(system, response);
  return response;
}
