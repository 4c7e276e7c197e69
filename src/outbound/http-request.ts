import axios, { AxiosRequestConfig, AxiosResponse } from 'axios';
import type { Readable } from 'node:stream';
import { Deadline, DeadlineError, isReadable, watchIdle } from './deadline';
import { httpFailure, HttpFailure } from './http-failure';

/** Deadline of an outbound request (ticket system, callback) when the caller names none. */
export const DEFAULT_OUTBOUND_TIMEOUT_MS = 30_000;

/** A request that did not end in a 2xx: what happened, classified for the job failure policy. */
export class OutboundFailure extends Error {
  constructor(readonly failure: HttpFailure) {
    super(failure.message);
    this.name = 'OutboundFailure';
  }
}

/**
 * One outbound HTTP request: answers outside 2xx and no answer at all become an OutboundFailure (429
 * waits, 5xx and no answer retry, other 4xx gives up); `count` gets the status ('0': no answer) for the
 * caller's own metric. Redirects are not followed: following one would make axios buffer a streamed
 * upload to replay it.
 *
 * `timeout` is a total deadline (a slow trickle of bytes does not extend it). A streamed upload cannot
 * have one, so it gets an idle watchdog instead (the upload fails once no byte moved for `timeout`) and,
 * once the body is sent, `timeout` again for the answer.
 */
export async function outboundRequest<T = unknown>(config: AxiosRequestConfig, count: (status: string) => void): Promise<AxiosResponse<T>> {
  const { timeout, ...rest } = config;
  const ms = timeout || DEFAULT_OUTBOUND_TIMEOUT_MS;
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
    count('0');
    throw new OutboundFailure(httpFailure(undefined, deadline.expired ?? (error as Error)));
  } finally {
    deadline.lift();
    body?.destroy();
  }
  count(String(response.status));
  if (response.status < 200 || response.status >= 300) throw new OutboundFailure(httpFailure(response));
  return response;
}
