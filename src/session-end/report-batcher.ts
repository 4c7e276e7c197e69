import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { SupportSessionReport } from '../beyondtrust/reporting.types';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { QUEUES, SessionEndJob } from '../jobs/queues';
import { RedisService } from '../redis/redis.service';
import { LinkStore } from '../sessions/link.store';
import { TicketResolver } from './ticket-resolver';

/** Sessions asked for in one SupportSession request; keeps the query (and the answer) a sane size. */
export const LSIDS_PER_REQUEST = 50;
/** How long a served answer waits for its asker to read it. */
const ANSWER_TTL_MS = 120_000;
const POLL_MS = 50;
/** How long a report fetched ahead for a waiting pull is kept for it. */
const AHEAD_TTL_MS = 300_000;

/** The batch request failed: retryable as the appliance's error was (a refused answer is not). */
export class ReportBatchError extends Error {
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
  }
}

/**
 * Session-end report pulls, batched across every worker through Redis: sessions that end close together
 * share one `SupportSession` request with `lsids=` (the guide's list form), so a burst of session ends
 * costs a fraction of a report each instead of one.
 *
 * A pull adds `<token> <lsid>` to a pending set and waits for the answer under its token. Whichever asker
 * takes the leader key waits out the window (RSB_REPORT_BATCH_WINDOW_MS; a lone session is delayed by no
 * more), takes up to 50 pending sessions, lets the next leader form the next batch while it asks the
 * appliance, and writes each asker's answer (a report, "none", the error, or "ask alone" when a batch of
 * several was refused for good, so one poisoned session never fails its neighbours). The tokens make each answer
 * one asked for after the request: a pull never reads a report older than its own trigger. An asker whose
 * leader died mid-request gives up after a deadline and the job retries.
 */
@Injectable()
export class ReportBatcher {
  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly redis: RedisService,
    private readonly links: LinkStore,
    private readonly resolver: TicketResolver,
    @InjectQueue(QUEUES.sessionEnd) private readonly pulls: Queue<SessionEndJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get window(): number {
    return this.config.env.RSB_REPORT_BATCH_WINDOW_MS;
  }

  /**
   * The session's full report, or undefined when the appliance knows no such lsid. `since` (ms): when
   * the trigger was queued; a report fetched ahead for this session after that time serves the pull.
   */
  async report(lsid: string, signal?: AbortSignal, since = Date.now()): Promise<SupportSessionReport | undefined> {
    if (this.window === 0) return this.beyondtrust.reporting.supportSession(lsid);
    const redis = this.redis.connection;
    const ahead = await redis.get(this.redis.key('reports', 'ahead', lsid));
    if (ahead !== null) {
      const { at, report } = JSON.parse(ahead) as { at: number; report?: SupportSessionReport };
      if (at >= since) return report;
    }
    const token = randomUUID();
    const answerKey = this.redis.key('reports', 'answer', token);
    await redis.sadd(this.redis.key('reports', 'pending'), `${token} ${lsid}`);
    // Long enough for a window, a full request with its retries, and a leader taking its turn.
    const deadline = Date.now() + this.window * 2 + this.config.env.BT_TIMEOUT_MS * 3 + 5_000;
    for (;;) {
      const answer = await redis.get(answerKey);
      if (answer !== null) {
        await redis.del(answerKey);
        const parsed = JSON.parse(answer) as { report?: SupportSessionReport; error?: string; retryable?: boolean; alone?: boolean };
        // A batch refused for good may have been refused for another session's sake: this one asks alone.
        if (parsed.alone) return this.beyondtrust.reporting.supportSession(lsid);
        if (parsed.error !== undefined) throw new ReportBatchError(parsed.error, parsed.retryable !== false);
        return parsed.report;
      }
      if (Date.now() > deadline) {
        await redis.srem(this.redis.key('reports', 'pending'), `${token} ${lsid}`);
        throw new ReportBatchError(`no answer to the batched report of session ${lsid}; it is asked for again`);
      }
      if (signal?.aborted) throw signal.reason;
      if (!(await this.lead())) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Serves one batch if no one else is forming one; false when another asker leads. */
  private async lead(): Promise<boolean> {
    const redis = this.redis.connection;
    const leaderKey = this.redis.key('reports', 'leader');
    const id = randomUUID();
    if ((await redis.set(leaderKey, id, 'PX', this.window + 5_000, 'NX')) !== 'OK') return false;
    let members: string[];
    try {
      await new Promise((resolve) => setTimeout(resolve, this.window));
      members = await redis.spop(this.redis.key('reports', 'pending'), LSIDS_PER_REQUEST);
    } finally {
      // The next batch forms while this one is at the appliance.
      if ((await redis.get(leaderKey)) === id) await redis.del(leaderKey);
    }
    if (!members.length) return true;
    const askers = members.map((m) => {
      const [token, lsid] = m.split(' ');
      return { token, lsid };
    });
    const asked = [...new Set(askers.map((a) => a.lsid))];
    const ahead = await this.waitingPulls(new Set(asked), LSIDS_PER_REQUEST - asked.length);
    const lsids = [...asked, ...ahead];
    const fetchedAt = Date.now();
    let answers: (lsid: string) => string;
    try {
      const found = await this.beyondtrust.reporting.supportSessions(lsids.length === 1 ? { lsid: lsids[0] } : { lsids });
      const byLsid = new Map(found.map((r) => [r.lsid, r]));
      answers = (lsid) => JSON.stringify({ report: byLsid.get(lsid) });
      const keep = redis.multi();
      for (const lsid of ahead)
        if (byLsid.has(lsid))
          keep.set(
            this.redis.key('reports', 'ahead', lsid),
            JSON.stringify({ at: fetchedAt, report: byLsid.get(lsid) }),
            'PX',
            AHEAD_TTL_MS,
          );
      await keep.exec();
    } catch (error) {
      const { message, retryable } = error as Error & { retryable?: boolean };
      answers = () => JSON.stringify(retryable === false && lsids.length > 1 ? { alone: true } : { error: message, retryable });
    }
    const write = redis.multi();
    // Whoever pulls these sessions next reads the answer already fetched, if it is newer than its trigger.
    for (const { token, lsid } of askers) write.set(this.redis.key('reports', 'answer', token), answers(lsid), 'PX', ANSWER_TTL_MS);
    await write.exec();
    return true;
  }

  /**
   * Sessions whose pull is queued but not started (workers busy writing earlier ones), linked to a ticket
   * by rs-bridge or bound for auto-create: fetched in this request too, so a burst of session ends costs
   * a fraction of a report each however few pulls run at once. Sessions with no ticket behind them stay
   * out (their pulls cost nothing).
   */
  private async waitingPulls(skip: Set<string>, room: number): Promise<string[]> {
    if (room <= 0) return [];
    const waiting = await this.pulls.getWaiting(0, LSIDS_PER_REQUEST * 2);
    const chosen: string[] = [];
    for (const job of waiting) {
      if (chosen.length >= room) break;
      const { lsid, externalKey, trigger } = job.data ?? {};
      if (!lsid || skip.has(lsid) || trigger === 'resync') continue;
      const linked =
        (externalKey && (await this.links.byExternalKey(externalKey.trim())) !== undefined) || this.resolver.wouldCreate(externalKey);
      if (!linked) continue;
      skip.add(lsid);
      chosen.push(lsid);
    }
    return chosen;
  }
}
