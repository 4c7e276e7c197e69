import axios, { AxiosResponse } from 'axios';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { Deadline, watchIdle } from '../outbound/deadline';
import {
  BeyondTrustApiError,
  BeyondTrustAuthError,
  BeyondTrustError,
  BeyondTrustResponseError,
  BeyondTrustUnavailableError,
} from './beyondtrust.errors';
import { ARRIVAL_BOUND_MS, Lane, SharedRateLimiter } from './rate-limiter';
import { SharedTokenProvider } from './token-provider';
import { MAX_XML_BYTES, parseApplianceXml, XmlNode } from './xml';

export type Endpoint = 'command' | 'reporting';
export type Params = Record<string, string | number | undefined>;

export interface TransportOptions {
  siteUrl: string;
  /**
   * Total deadline of one request answered in XML, however slowly its bytes arrive. For a recording:
   * the wait for the answer's headers, then the longest pause between bytes.
   */
  timeoutMs: number;
  limiter: SharedRateLimiter;
  tokens: SharedTokenProvider;
  /** Attempts for retryable failures within one call (a queue job retries beyond that). */
  maxAttempts?: number;
  /** Observes every HTTP exchange: operation, status (0 for no answer), ms waited at the limiter. */
  onRequest?: (event: { operation: string; status: number; limiterWaitMs: number }) => void;
}

export interface RecordingStream {
  stream: Readable;
  contentLength?: number;
  contentType?: string;
  filename?: string;
}

/** Past this length of query string, parameters go in a form-encoded POST body (the guide allows both). */
const MAX_GET_QUERY = 1800;
const NO_ANSWER_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function encodeParams(params: Params): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.append(k, String(v));
  return search.toString();
}

/**
 * The one way to the appliance: every request passes the shared rate limiter, carries the shared
 * token, closes its connection (the guide requires it), and ends in XML, a stream or a typed error.
 */
export class BeyondTrustTransport {
  // keepAlive off: one connection per request, as the API guide requires for consecutive calls.
  private readonly httpAgent = new HttpAgent({ keepAlive: false });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: false });
  private readonly base: string;

  constructor(private readonly options: TransportOptions) {
    this.base = options.siteUrl.replace(/\/$/, '');
  }

  /**
   * A command or report answered in XML: the root element's name and content, or a typed error. Commands
   * wait in the interactive lane (someone waits on them), reports in the batch lane, unless told otherwise.
   */
  async xml(
    endpoint: Endpoint,
    params: Params,
    operation: string,
    idempotent: boolean,
    lane: Lane = endpoint === 'command' ? 'interactive' : 'batch',
  ): Promise<{ root: string; node: XmlNode }> {
    const response = await this.send<string>(endpoint, params, operation, idempotent, 'text', lane);
    return parseApplianceXml(response.data, operation);
  }

  /** A recording or archive: the body as a stream, never buffered. */
  async stream(params: Params, operation: string): Promise<RecordingStream> {
    const response = await this.send<Readable>('reporting', params, operation, true, 'stream', 'batch');
    const type = String(response.headers['content-type'] ?? '');
    // An unknown lsid or instance comes back as an XML <error> inside a 200, not as a file.
    if (/xml/i.test(type)) {
      const text = await readBounded(response.data, MAX_XML_BYTES);
      parseApplianceXml(text, operation);
      throw new BeyondTrustApiError('the appliance answered XML instead of a recording', operation);
    }
    const disposition = String(response.headers['content-disposition'] ?? '');
    const length = Number(response.headers['content-length']);
    return {
      stream: response.data,
      contentType: type || undefined,
      contentLength: Number.isFinite(length) ? length : undefined,
      filename: /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)?.[1],
    };
  }

  private async send<T>(
    endpoint: Endpoint,
    params: Params,
    operation: string,
    idempotent: boolean,
    responseType: 'text' | 'stream',
    lane: Lane,
  ): Promise<AxiosResponse<T>> {
    const maxAttempts = this.options.maxAttempts ?? 3;
    const query = encodeParams(params);
    const usePost = query.length > MAX_GET_QUERY;
    const url = `${this.base}/api/${endpoint}`;
    let refreshedToken = false;
    let lastError: BeyondTrustError | undefined;

    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      // Token first: fetching it can take a while, and a slot taken before that wait would be spent late,
      // crowding the next window at the appliance.
      const token = await this.options.tokens.get();
      const grant = await this.options.limiter.acquireUntilAnswered(undefined, lane, Math.min(this.options.timeoutMs, ARRIVAL_BOUND_MS));
      const limiterWaitMs = grant.waitedMs;
      let response: AxiosResponse<T>;
      // A buffered answer must be complete within the deadline; a stream must start within it, then
      // keep moving (the watchdog below).
      const deadline = new Deadline(this.options.timeoutMs, `no answer from the appliance within ${this.options.timeoutMs} ms`);
      try {
        response = await axios
          .request<T>({
            url: usePost ? url : `${url}?${query}`,
            method: usePost ? 'POST' : 'GET',
            data: usePost ? query : undefined,
            headers: {
              authorization: `Bearer ${token}`,
              connection: 'close',
              ...(usePost ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
            },
            httpAgent: this.httpAgent,
            httpsAgent: this.httpsAgent,
            signal: deadline.signal,
            responseType,
            maxContentLength: responseType === 'text' ? MAX_XML_BYTES : -1,
            // Text is decoded here, not JSON-parsed by axios behind our back.
            transitional: { forcedJSONParsing: false, silentJSONParsing: false },
            validateStatus: () => true,
            // Counted from here on, once the appliance has answered (or could not be reached); a Redis
            // error leaves the slot counted until its hold ends, which only slows the next grants.
          })
          .finally(() => grant.answered().catch(() => undefined));
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        this.options.onRequest?.({ operation, status: 0, limiterWaitMs });
        // Refused as it is: the same answer would come again (and be downloaded again) on every retry.
        if (/maxContentLength/.test((error as Error).message))
          throw new BeyondTrustResponseError(`answer exceeds the ${MAX_XML_BYTES}-byte limit`, operation);
        const reason = deadline.expired?.message ?? `no answer from the appliance (${code || (error as Error).message})`;
        lastError = new BeyondTrustUnavailableError(reason, operation);
        // A command that may have reached the appliance is not sent twice (a chat line would repeat).
        const neverSent = NO_ANSWER_CODES.has(code);
        if ((idempotent || neverSent) && attempt < maxAttempts) {
          await sleep(backoff(attempt));
          continue;
        }
        throw lastError;
      } finally {
        deadline.lift();
      }
      if (responseType === 'stream') {
        const idleMs = this.options.timeoutMs;
        (response as AxiosResponse<Readable>).data = watchIdle(
          response.data as Readable,
          idleMs,
          () => new BeyondTrustUnavailableError(`the appliance sent nothing for ${idleMs} ms`, operation),
        );
      }
      this.options.onRequest?.({ operation, status: response.status, limiterWaitMs });
      await this.observeBudget(response);

      if (response.status === 200) return response;
      const body =
        responseType === 'stream'
          ? await readBounded(response.data as unknown as Readable, 64 * 1024).catch(() => '')
          : String(response.data ?? '');

      if (response.status === 401 || response.status === 403) {
        if (response.status === 401 && !refreshedToken) {
          // The token expired early or was revoked: fetch a new one once and try again.
          refreshedToken = true;
          await this.options.tokens.invalidate(token);
          attempt -= 1;
          continue;
        }
        throw new BeyondTrustAuthError(
          `the appliance denied the request (${errorMessage(body) || `HTTP ${response.status}`}); check the API account's permissions`,
          operation,
          response.status,
        );
      }
      if (response.status === 429) {
        const retryAfterMs = retryAfter(response) ?? 1_000;
        await this.options.limiter.pauseFor(retryAfterMs);
        lastError = new BeyondTrustUnavailableError(
          `the appliance rate limit was hit (HTTP 429); retry after ${retryAfterMs} ms`,
          operation,
          429,
          retryAfterMs,
        );
        // Refused before processing: safe to repeat whatever the command.
        if (attempt < maxAttempts) continue;
        throw lastError;
      }
      if (response.status >= 500) {
        lastError = new BeyondTrustUnavailableError(
          `the appliance answered HTTP ${response.status}`,
          operation,
          response.status,
          retryAfter(response),
        );
        if (idempotent && attempt < maxAttempts) {
          await sleep(retryAfter(response) ?? backoff(attempt));
          continue;
        }
        throw lastError;
      }
      throw new BeyondTrustApiError(
        `the appliance refused the request: ${errorMessage(body) || `HTTP ${response.status}`}`,
        operation,
        response.status,
      );
    }
    throw lastError ?? new BeyondTrustUnavailableError('the appliance could not be reached', operation);
  }

  /** The hourly budget is shared with anything else using the account: stop everyone when it is spent. */
  private async observeBudget(response: AxiosResponse): Promise<void> {
    const remaining = Number(response.headers['x-ratelimit-remaining']);
    if (response.headers['x-ratelimit-remaining'] !== undefined && remaining <= 0) {
      await this.options.limiter.pauseFor(retryAfter(response) ?? 60_000);
    }
  }
}

function backoff(attempt: number): number {
  const base = 200 * 2 ** (attempt - 1);
  return base + Math.floor(Math.random() * base);
}

function retryAfter(response: AxiosResponse): number | undefined {
  const header = response.headers['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(header));
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** The appliance's words, from its JSON (`access_denied`) or XML error bodies, or the raw text. */
function errorMessage(body: string): string {
  const trimmed = body.trim();
  if (!trimmed) return '';
  try {
    const json = JSON.parse(trimmed) as { message?: string; error?: string };
    return [json.error, json.message].filter(Boolean).join(': ');
  } catch {
    const xml = /<(?:\w+:)?error[^>]*>([\s\S]*?)<\/(?:\w+:)?error>/.exec(trimmed);
    return (xml ? xml[1] : trimmed).slice(0, 500);
  }
}

async function readBounded(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new BeyondTrustApiError(`error body larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
