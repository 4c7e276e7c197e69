import type { AxiosResponse } from 'axios';
import { DeadlineError } from './deadline';

/** What an outbound request's failure means for a retry: the job failure policy (jobs/run-job.ts) reads these. */
export interface HttpFailure {
  message: string;
  retryable: boolean;
  status?: number;
  /** From Retry-After on a 429: the queue waits this long before trying again. */
  retryAfterMs?: number;
}

/** One retry policy for every outbound HTTP peer: 429 waits Retry-After, 5xx, 408 and no answer retry, 4xx gives up. */
export function httpFailure(response: AxiosResponse | undefined, error?: Error): HttpFailure {
  if (!response) {
    if (error instanceof DeadlineError) return { message: error.message, retryable: true };
    const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    // A callback host that resolves to an inner address resolves the same way on the next attempt.
    if (cause?.code === 'ERR_CALLBACK_ADDRESS_REFUSED') return { message: `callback refused: ${cause.message}`, retryable: false };
    return { message: `no answer (${(error as { code?: string })?.code ?? error?.message ?? 'unknown'})`, retryable: true };
  }
  const status = response.status;
  const message = describe(response.data) || `HTTP ${status}`;
  if (status === 429) {
    const seconds = Number(response.headers['retry-after']);
    return {
      message: `rate limited (HTTP 429): ${message}`,
      retryable: true,
      status: 429,
      retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : 60_000,
    };
  }
  if (status >= 500 || status === 408) return { message: `HTTP ${status}: ${message}`, retryable: true, status };
  return { message: `HTTP ${status}: ${message}`, retryable: false, status };
}

/** The peer's own words, from the JSON error shapes Zendesk, ServiceNow and Jira use, or plain text. */
function describe(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return describe(JSON.parse(body));
    } catch {
      return body.trim().slice(0, 300);
    }
  }
  if (!body || typeof body !== 'object') return '';
  const b = body as { error?: unknown; description?: string; details?: unknown; errorMessages?: unknown; errors?: unknown };
  if (Array.isArray(b.errorMessages) || (b.errors && typeof b.errors === 'object')) {
    // Jira: { errorMessages: [...], errors: { field: message } }
    const fields = Object.entries((b.errors ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}: ${String(v)}`);
    return [...((b.errorMessages as unknown[]) ?? []).map(String), ...fields].join('; ').slice(0, 500);
  }
  if (b.error && typeof b.error === 'object') {
    const e = b.error as { message?: string; detail?: string };
    return [e.message, e.detail].filter(Boolean).join(': ');
  }
  const details = b.details ? ` ${JSON.stringify(b.details).slice(0, 300)}` : '';
  return [b.error, b.description].filter(Boolean).join(': ') + details;
}
