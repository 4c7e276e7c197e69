import axios, { AxiosResponse } from 'axios';
import { Deadline } from '../outbound/deadline';

/** An Upscope visitor as rs-bridge uses it; Upscope's other attributes are kept in `raw`. */
export interface UpscopeVisitor {
  shortId: string;
  name?: string;
  email?: string;
  lookupCode?: string;
  online?: boolean;
  raw: Record<string, unknown>;
}

export interface WatchUrlRequest {
  agent: { id: string; name: string };
  permissions?: Record<string, boolean>;
  branding?: { naked?: boolean | 'page_only'; on_end_url?: string; retry_url?: string };
  metadata?: Record<string, unknown>;
}

/**
 * What went wrong with Upscope, in words an agent can act on. `retryable` separates outages from refusals.
 * The REST API document describes only successful answers, so the kinds come from HTTP itself: 404 not
 * found, 401/403 unauthorized, 429/5xx or no answer unavailable, any other refusal `refused` with its status.
 */
export class UpscopeError extends Error {
  constructor(
    message: string,
    readonly kind: 'not_found' | 'unauthorized' | 'refused' | 'unavailable',
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UpscopeError';
  }
}

export interface UpscopeClientOptions {
  baseUrl: string;
  restKey: string;
  licenseToken: string;
  timeoutMs?: number;
}

const visitorOf = (v: Record<string, unknown>): UpscopeVisitor => ({
  shortId: String(v.short_id ?? ''),
  name: typeof v.name === 'string' ? v.name : undefined,
  email: typeof v.email === 'string' ? v.email : undefined,
  lookupCode: v.lookup_code !== undefined ? String(v.lookup_code) : undefined,
  online: typeof v.online === 'boolean' ? v.online : undefined,
  raw: v,
});

/**
 * The Upscope REST API (on-premise: mounted on `<BASE_ENDPOINT>/api`, `Authorization: <REST_KEY>`):
 * latest visitors, search, one visitor, and watch URLs.
 */
export class UpscopeClient {
  constructor(private readonly options: UpscopeClientOptions) {}

  async latest(): Promise<UpscopeVisitor[]> {
    const data = await this.call<{ visitors?: Record<string, unknown>[] }>('GET', '/visitors/list/latest');
    return (data.visitors ?? []).map(visitorOf);
  }

  /** Upscope's search syntax: an email, `id:…`, `ip:…`, a lookup code, `#tag` or free text. */
  async search(q: string): Promise<UpscopeVisitor[]> {
    const data = await this.call<{ visitors?: Record<string, unknown>[] }>('GET', `/visitors/list/search?q=${encodeURIComponent(q)}`);
    return (data.visitors ?? []).map(visitorOf);
  }

  /** The visitor with this short id, or undefined when Upscope knows none. */
  async visitor(shortId: string): Promise<UpscopeVisitor | undefined> {
    try {
      const data = await this.call<{ visitor: Record<string, unknown> }>('GET', `/visitors/${encodeURIComponent(shortId)}`);
      return visitorOf(data.visitor);
    } catch (error) {
      if (error instanceof UpscopeError && error.kind === 'not_found') return undefined;
      throw error;
    }
  }

  async watchUrl(shortId: string, request: WatchUrlRequest): Promise<string> {
    const data = await this.call<{ watch_url?: string }>('POST', `/visitors/${encodeURIComponent(shortId)}/watch_url`, {
      licenseToken: this.options.licenseToken,
      agent: request.agent,
      branding: request.branding ?? {},
      permissions: request.permissions ?? {},
      metadata: request.metadata ?? {},
    });
    if (!data.watch_url) throw new UpscopeError('Upscope answered without a watch_url', 'refused', false);
    return data.watch_url;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: AxiosResponse;
    const ms = this.options.timeoutMs ?? 15_000;
    const deadline = new Deadline(ms, `within ${ms} ms`);
    try {
      response = await axios.request({
        method,
        url: `${this.options.baseUrl.replace(/\/$/, '')}/api${path}`,
        data: body,
        headers: { authorization: this.options.restKey, accept: 'application/json' },
        signal: deadline.signal,
        maxContentLength: 16 * 1024 * 1024,
        validateStatus: () => true,
        maxRedirects: 0,
      });
    } catch (error) {
      throw new UpscopeError(
        `Upscope did not answer (${deadline.expired?.message ?? (error as { code?: string }).code ?? (error as Error).message})`,
        'unavailable',
        true,
      );
    } finally {
      deadline.lift();
    }
    const data = response.data as { status?: string; error?: unknown; message?: unknown } | string | undefined;
    // Whatever words came with a refusal (JSON or text), shown as they are: none of them is relied upon.
    const raw = typeof data === 'string' ? data : data && typeof data === 'object' ? (data.error ?? data.message) : undefined;
    const said = typeof raw === 'string' && raw.trim() ? raw.trim().slice(0, 200) : undefined;
    const s = response.status;
    if (s === 200 && data && typeof data === 'object' && (data.status === undefined || data.status === 'ok')) return response.data as T;
    if (s >= 200 && s < 300)
      throw new UpscopeError(`Upscope answered HTTP ${s} without the documented {"status": "ok"} JSON`, 'refused', false, s);
    if (s === 404) throw new UpscopeError(`no such visitor in Upscope${said ? ` (${said})` : ''}`, 'not_found', false, s);
    if (s === 401 || s === 403) throw new UpscopeError('Upscope refused the REST key (check UPSCOPE_REST_KEY)', 'unauthorized', false, s);
    if (s === 429 || s >= 500) throw new UpscopeError(`Upscope answered HTTP ${s}${said ? `: ${said}` : ''}`, 'unavailable', true, s);
    throw new UpscopeError(`Upscope refused the request (HTTP ${s}${said ? `: ${said}` : ''})`, 'refused', false, s);
  }
}
