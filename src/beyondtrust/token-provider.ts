import axios from 'axios';
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { RedisClient } from '../redis/redis-options';
import { Deadline } from '../outbound/deadline';
import { BeyondTrustAuthError, BeyondTrustUnavailableError } from './beyondtrust.errors';

interface StoredToken {
  token: string;
  expiresAt: number;
  ttlMs: number;
}

export interface TokenProviderOptions {
  siteUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  /** `rsb:bt:token:<account>` */
  key: string;
  /** Refresh this long before expiry, so no request carries a token about to die. */
  refreshMarginMs?: number;
  /** Called once per token actually requested from the appliance (metrics, benchmarks). */
  onTokenRequested?: () => void;
  /** Called with the HTTP status of each token answer (0: no answer), so refusals can be alerted on. */
  onTokenAnswered?: (status: number) => void;
}

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const DELETE_IF_SAME = `local v = redis.call('GET', KEYS[1]) if v and cjson.decode(v).token == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const LOCK_TTL_MS = 15_000;
const WAIT_STEP_MS = 50;

/**
 * One OAuth token for the whole deployment. An API account may hold only 30 valid tokens, so pods
 * share the token through Redis and one pod at a time refreshes it (a Redis lock); the others keep
 * using the current token, or wait for the new one when there is none.
 */
export class SharedTokenProvider {
  private readonly httpAgent = new HttpAgent({ keepAlive: false });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: false });

  constructor(
    private readonly redis: RedisClient,
    private readonly options: TokenProviderOptions,
  ) {}

  async get(): Promise<string> {
    const configuredMargin = this.options.refreshMarginMs ?? 5 * 60_000;
    // A short-lived token (a test appliance's) is refreshed in its last tenth, not five minutes early.
    const marginFor = (t?: StoredToken) => Math.min(configuredMargin, (t?.ttlMs ?? Infinity) / 10);
    const deadline = Date.now() + LOCK_TTL_MS + this.options.timeoutMs;
    for (;;) {
      const stored = await this.read();
      const now = Date.now();
      if (stored && stored.expiresAt - now > marginFor(stored)) return stored.token;

      const lockKey = `${this.options.key}:lock`;
      const lockId = randomUUID();
      if ((await this.redis.set(lockKey, lockId, 'PX', LOCK_TTL_MS, 'NX')) === 'OK') {
        try {
          // Another pod may have refreshed between our read and our lock.
          const again = await this.read();
          if (again && again.expiresAt - Date.now() > marginFor(again)) return again.token;
          return await this.fetchAndStore();
        } finally {
          await this.redis.eval(RELEASE_LOCK, 1, lockKey, lockId);
        }
      }
      // Someone else is refreshing: a still-valid token serves meanwhile.
      if (stored && stored.expiresAt > now + 1_000) return stored.token;
      if (Date.now() > deadline)
        throw new BeyondTrustUnavailableError('timed out waiting for another process to fetch the BeyondTrust OAuth token', 'oauth2/token');
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
  }

  /** The appliance refused `token` (401): drop it, unless another pod already replaced it. */
  async invalidate(token: string): Promise<void> {
    await this.redis.eval(DELETE_IF_SAME, 1, this.options.key, token);
  }

  private async read(): Promise<StoredToken | undefined> {
    const raw = await this.redis.get(this.options.key);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as StoredToken;
    } catch {
      return undefined;
    }
  }

  private async fetchAndStore(): Promise<string> {
    const { siteUrl, clientId, clientSecret, timeoutMs } = this.options;
    this.options.onTokenRequested?.();
    // The appliance starts the token's hour when it receives the request: count from before sending.
    const requestedAt = Date.now();
    let response;
    const deadline = new Deadline(timeoutMs, `no token from the appliance within ${timeoutMs} ms`);
    try {
      response = await axios.post(`${siteUrl.replace(/\/$/, '')}/oauth2/token`, 'grant_type=client_credentials', {
        auth: { username: clientId, password: clientSecret },
        headers: { 'content-type': 'application/x-www-form-urlencoded', connection: 'close' },
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        signal: deadline.signal,
        // A token answer is a few hundred bytes.
        maxContentLength: 64 * 1024,
        validateStatus: () => true,
        responseType: 'json',
      });
    } catch (error) {
      this.options.onTokenAnswered?.(0);
      throw new BeyondTrustUnavailableError(
        `cannot reach the appliance for a token: ${deadline.expired?.message ?? (error as Error).message}`,
        'oauth2/token',
      );
    } finally {
      deadline.lift();
    }
    this.options.onTokenAnswered?.(response.status);
    const body = response.data as { access_token?: string; expires_in?: number; error?: string; message?: string };
    if (response.status === 429 || response.status >= 500) {
      throw new BeyondTrustUnavailableError(`token request answered HTTP ${response.status}`, 'oauth2/token', response.status);
    }
    if (response.status !== 200 || !body?.access_token) {
      const reason = body?.message ?? body?.error ?? `HTTP ${response.status}`;
      throw new BeyondTrustAuthError(
        `the appliance refused the API account's credentials (${reason}); check BT_CLIENT_ID and BT_CLIENT_SECRET`,
        'oauth2/token',
        response.status,
      );
    }
    const ttlMs = Math.max(1, Number(body.expires_in ?? 3600)) * 1000;
    const stored: StoredToken = { token: body.access_token, expiresAt: requestedAt + ttlMs, ttlMs };
    await this.redis.set(this.options.key, JSON.stringify(stored), 'PX', ttlMs);
    return stored.token;
  }
}
