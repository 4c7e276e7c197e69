import { Inject, Injectable, Logger } from '@nestjs/common';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { RedisService } from '../redis/redis.service';
import { KeyExpiryService } from './key-expiry.service';
import { SessionEndQueue } from './session-end.queue';
import { Locks } from '../redis/locks';
import { TicketResolver } from './ticket-resolver';

export interface PollOutcome {
  ran: boolean;
  window?: { from: number; to: number };
  seen?: number;
  enqueued?: string[];
  /** Tickets moved on because their key expired unused (outcomes.expiredKey). */
  expired?: string[];
}

/**
 * The backstop for lost or unconfigured outbound events: asks SupportSessionListing for sessions that
 * ended since a cursor (minus an overlap window), enqueues each whose external key leads to a ticket
 * (or would create one), and only then advances the cursor. A lock keeps polls from overlapping
 * whichever worker runs them.
 */
@Injectable()
export class SessionPoller {
  private readonly logger = new Logger('SessionPoller');

  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly resolver: TicketResolver,
    private readonly pulls: SessionEndQueue,
    private readonly locks: Locks,
    private readonly redis: RedisService,
    private readonly expiry: KeyExpiryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get cursorKey(): string {
    return this.redis.key('poll', 'cursor');
  }

  /** UNIX seconds up to which ended sessions have been enqueued, if a poll has run. */
  async cursor(): Promise<number | undefined> {
    const raw = await this.redis.connection.get(this.cursorKey);
    return raw ? Number(raw) : undefined;
  }

  async poll(now = Math.floor(Date.now() / 1000)): Promise<PollOutcome> {
    const env = this.config.env;
    const outcome = await this.locks.withLock('poll', async () => {
      const cursor = (await this.cursor()) ?? now - Math.max(env.BT_POLL_INTERVAL_SECONDS, 60);
      const from = Math.max(0, cursor - env.BT_POLL_OVERLAP_SECONDS);
      const to = now;
      const sessions = await this.beyondtrust.reporting.supportSessionListing({ endTime: from, duration: Math.max(1, to - from) });
      const enqueued: string[] = [];
      for (const session of sessions) {
        if (!session.lsid) continue;
        const linked = (await this.resolver.find(session.externalKey)) !== undefined || this.resolver.wouldCreate(session.externalKey);
        if (!linked) continue;
        enqueued.push(await this.pulls.add({ lsid: session.lsid, trigger: 'poll', externalKey: session.externalKey }));
      }
      // Only now: a poll that failed above leaves the cursor where it was and the next one covers the gap.
      await this.redis.connection.set(this.cursorKey, String(to));
      if (enqueued.length) this.logger.log(`poll ${from}..${to}: ${sessions.length} ended session(s), ${enqueued.length} enqueued`);
      const expired = await this.expiry.check(now * 1000);
      return { ran: true, window: { from, to }, seen: sessions.length, enqueued, expired };
    });
    return outcome.ran ? outcome.value : { ran: false };
  }
}
