import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { awaitReplica, createRedis, RedisClient, redisAddress, RedisMode, redisMode } from './redis-options';

/** While Redis does not answer, say so after 1 s, then 2, 4, 8 … up to once a minute. */
const FIRST_REPORT_MS = 1_000;
const MAX_REPORT_MS = 60_000;
/** Background work that needs Redis (job schedulers) retries from 1 s up to every 30 s. */
const MAX_RETRY_MS = 30_000;

/** Owns the shared command connection and the key naming under RSB_REDIS_PREFIX. */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly prefix: string;
  /** Where Redis is (mode and addresses), never its credentials: for logs and probes. */
  readonly address: string;
  readonly mode: RedisMode;
  private readonly client: RedisClient;
  private readonly logger = new Logger('Redis');
  private lastError?: string;
  private downSince?: number;
  private everReady = false;
  private reportTimer?: NodeJS.Timeout;
  private stopping = false;
  private readonly waiters = new Set<() => void>();
  private slot?: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.prefix = config.env.RSB_REDIS_PREFIX;
    this.address = redisAddress(config.env);
    this.mode = redisMode(config.env);
    this.client = createRedis(config.env, 'command');
    // Without a listener ioredis prints every failed reconnect; the reports below say it once, backing off.
    this.client.on('error', (error: Error) => (this.lastError = error.message));
    this.client.on('ready', () => this.up());
    this.client.on('close', () => this.down());
    this.logger.log(`Connecting to Redis at ${this.address}`);
    this.down();
  }

  /** The connection for short commands: waits for the first connection, fails fast while Redis is away. */
  get connection(): RedisClient {
    return this.client;
  }

  /**
   * The server this process's commands reach now, as `host:port`: the master a sentinel named (it
   * changes on a failover), or on a Cluster the master holding the deployment's hash slot.
   */
  async node(): Promise<string | undefined> {
    if (this.mode !== 'cluster') {
      const stream = (this.client as unknown as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
      return stream?.remoteAddress ? `${stream.remoteAddress}:${stream.remotePort}` : undefined;
    }
    const cluster = this.client as Cluster;
    this.slot ??= Number(await cluster.cluster('KEYSLOT', this.key('slot')));
    return cluster.slots[this.slot]?.[0];
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Why Redis does not answer, once a connection attempt failed or the connection was lost; else undefined. */
  get connectionError(): string | undefined {
    if (this.ready) return undefined;
    if (this.lastError) return this.lastError;
    return ['reconnecting', 'close', 'end'].includes(this.client.status) ? `connection ${this.client.status}` : undefined;
  }

  /** In Sentinel and Cluster mode, waits until a replica holds the writes made so far (see awaitReplica). */
  replicated(): Promise<void> {
    return awaitReplica(this.client, this.prefix);
  }

  /** `rsb:<part>:<part>` — every key of this deployment goes through here. */
  key(...parts: (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /**
   * Runs work that needs Redis without holding up the boot: once Redis answers, and again with back-off
   * until it succeeds or the process stops. The HTTP server and the probes come up without Redis.
   */
  inBackground(what: string, work: () => Promise<unknown>): void {
    let delay = FIRST_REPORT_MS;
    const attempt = async (): Promise<void> => {
      if (this.stopping) return;
      try {
        await this.whenReady();
        if (this.stopping) return;
        await work();
      } catch (error) {
        if (this.stopping) return;
        this.logger.warn(`${what} failed (${(error as Error).message}); retrying in ${delay / 1000} s`);
        setTimeout(() => void attempt(), delay).unref();
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    };
    void attempt();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reportTimer);
    for (const wake of this.waiters) wake();
    if (this.client.status !== 'end') await this.client.quit().catch(() => this.client.disconnect());
  }

  private whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
    });
  }

  private up(): void {
    clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    if (!this.everReady) this.logger.log(`Connected to Redis at ${this.address}`);
    else if (this.downSince !== undefined)
      this.logger.log(`Redis at ${this.address} answers again after ${Math.round((Date.now() - this.downSince) / 1000)} s`);
    this.everReady = true;
    this.downSince = undefined;
    this.lastError = undefined;
    for (const wake of this.waiters) wake();
  }

  private down(): void {
    if (this.stopping || this.downSince !== undefined) return;
    this.downSince = Date.now();
    if (this.everReady) this.logger.warn(`Lost the connection to Redis at ${this.address}; reconnecting`);
    this.scheduleReport(FIRST_REPORT_MS);
  }

  private scheduleReport(delay: number): void {
    this.reportTimer = setTimeout(() => {
      if (this.stopping || this.ready) return;
      const since = Math.round((Date.now() - (this.downSince ?? Date.now())) / 1000);
      this.logger.warn(
        `Redis at ${this.address} does not answer${this.lastError ? ` (${this.lastError})` : ''} for ${since} s; still trying`,
      );
      this.scheduleReport(Math.min(delay * 2, MAX_REPORT_MS));
    }, delay).unref();
  }
}
