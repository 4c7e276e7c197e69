import { Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RedisService } from '../redis/redis.service';

const PING_TIMEOUT_MS = 1_000;
const SETTINGS_TTL_MS = 60_000;

/**
 * What rs-bridge needs of a production Redis: queued work and idempotency records survive a restart
 * (AOF) and are never evicted under memory pressure. Reported as warnings: the bridge works without
 * them, but can lose or repeat work when Redis restarts or fills up.
 */
export function redisSettingWarnings(info: string): string[] {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const warnings: string[] = [];
  const aof = field('aof_enabled');
  if (aof !== undefined && aof !== '1') warnings.push('AOF persistence is off (set appendonly yes): queued work is lost if Redis restarts');
  const policy = field('maxmemory_policy');
  if (policy !== undefined && policy !== 'noeviction') {
    warnings.push(`maxmemory-policy is ${policy} (set noeviction): Redis may evict queued jobs and idempotency records`);
  }
  return warnings;
}

@Injectable()
export class RedisHealthIndicator {
  private readonly logger = new Logger('Readiness');
  private lastUp: boolean | undefined;
  private settings?: { at: number; warnings: string[] };

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisService,
  ) {}

  async check() {
    const indicator = this.indicators.check('redis');
    try {
      // Not connected: say why at once rather than after the ping's timeout.
      const notConnected = this.redis.connectionError;
      if (notConnected) throw new Error(notConnected);
      const pong = await Promise.race([
        this.redis.connection.ping(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS).unref(),
        ),
      ]);
      if (pong !== 'PONG') throw new Error(`unexpected answer ${String(pong)}`);
      this.transition(true);
      const warnings = await this.settingWarnings();
      // Which Redis answered: after a Sentinel failover, the new master.
      const where: { mode: string; node?: string; warnings?: string[] } = {
        mode: this.redis.mode,
        node: await this.redis.node().catch(() => undefined),
      };
      if (warnings.length > 0) where.warnings = warnings;
      return indicator.up(where);
    } catch (error) {
      const message = `Redis does not answer at ${this.redis.address}: ${(error as Error).message}`;
      this.transition(false, message);
      return indicator.down({ mode: this.redis.mode, message });
    }
  }

  /** INFO is cheap but not free: probes run every few seconds, the settings rarely change. */
  private async settingWarnings(): Promise<string[]> {
    if (this.settings && Date.now() - this.settings.at < SETTINGS_TTL_MS) return this.settings.warnings;
    const info = await this.redis.connection.info().catch(() => '');
    const warnings = redisSettingWarnings(info);
    if (warnings.join() !== this.settings?.warnings.join()) for (const w of warnings) this.logger.warn(`Redis: ${w}`);
    this.settings = { at: Date.now(), warnings };
    return warnings;
  }

  /** Logs changes only: a probe every few seconds must not flood the log while Redis is away. */
  private transition(up: boolean, message?: string): void {
    if (this.lastUp === up) return;
    if (up && this.lastUp === false) this.logger.log('Redis answers again');
    if (!up) this.logger.warn(message);
    this.lastUp = up;
  }
}
