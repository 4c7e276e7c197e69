import { Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RedisService } from '../redis/redis.service';

const PING_TIMEOUT_MS = 1_000;

@Injectable()
export class RedisHealthIndicator {
  private readonly logger = new Logger('Readiness');
  private lastUp: boolean | undefined;
  private ready?: Promise<void>;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisService,
  ) {}

  async check() {
    const indicator = this.indicators.check('redis');
    try {
      const pong = await Promise.race([
        this.whenConnected().then(() => this.redis.connection.ping()),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS).unref(),
        ),
      ]);
      if (pong !== 'PONG') throw new Error(`unexpected answer ${String(pong)}`);
      this.transition(true);
      return indicator.up();
    } catch (error) {
      const message = `Redis does not answer: ${(error as Error).message}`;
      this.transition(false, message);
      return indicator.down({ message });
    }
  }

  /** Right after boot or a reconnect the connection may still be handshaking: wait for it, within the timeout. */
  private whenConnected(): Promise<void> {
    const connection = this.redis.connection;
    if (connection.status === 'ready') return Promise.resolve();
    // One listener however many probes wait, or an outage would pile up listeners.
    this.ready ??= new Promise((resolve) =>
      connection.once('ready', () => {
        this.ready = undefined;
        resolve();
      }),
    );
    return this.ready;
  }

  /** Logs changes only: a probe every few seconds must not flood the log while Redis is away. */
  private transition(up: boolean, message?: string): void {
    if (this.lastUp === up) return;
    if (up && this.lastUp === false) this.logger.log('Redis answers again');
    if (!up) this.logger.warn(message);
    this.lastUp = up;
  }
}
