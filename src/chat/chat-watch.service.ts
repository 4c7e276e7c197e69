import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { SupportSessionReport } from '../beyondtrust/reporting.types';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { CallbackTargets } from '../outbound/callback-targets';
import { standardWebhookHeaders } from '../common/standard-webhooks';
import { CHAT_CALLBACK_JOB_OPTIONS, jobIds, QUEUES } from '../jobs/queues';
import { Locks } from '../redis/locks';
import { postBotCallback } from './bot-callback.client';
import { Escalation, EscalationStore, Outgoing, SentLine } from './escalation.store';

/** Reports asked for in one request: one SupportSession call serves this many open escalations. */
const LSIDS_PER_REPORT = 50;

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** How far the appliance's time of a line may be from the time we noted for it (clock skew, queueing). */
export const ECHO_WINDOW_SECONDS = 600;
const comparable = (text: string) => text.replace(/\u200B/g, '').trim();

/**
 * What happened in the session since the cursor, as callbacks; the escalation's new state.
 *
 * A chat line rs-bridge sent itself (the replayed bot transcript, the customer's relayed lines) is known by
 * what was sent: the same text, within ECHO_WINDOW_SECONDS of when it was sent (or of the original time a
 * replayed line carried), each sent line matching one report line at most. The guide only says the report
 * marks such lines with "a special attribute" it never names, and how the appliance labels the sender of
 * an API line is not ours to rely on: a line we sent never goes back to the bot, whoever it appears to be from.
 * `leftAt` (the customer left through rs-bridge) ends the escalation for the bot even while the session goes on.
 */
export function advance(
  escalation: Escalation,
  report: SupportSessionReport,
  sent: SentLine[] = [],
  leftAt?: string,
): { next: Escalation; outgoing: Outgoing[] } {
  const next: Escalation = { ...escalation, representatives: [...escalation.representatives], echoed: [...(escalation.echoed ?? [])] };
  const echoed = new Set(next.echoed);
  const ownLine = (body: string, at: number): boolean => {
    const text = comparable(body);
    const match = sent.findIndex(
      (line, j) => !echoed.has(j) && Math.abs(line.at - at) <= ECHO_WINDOW_SECONDS && comparable(line.body) === text,
    );
    if (match < 0) return false;
    echoed.add(match);
    next.echoed!.push(match);
    return true;
  };
  const outgoing: Outgoing[] = [];
  const base = { escalationId: escalation.id, lsid: escalation.lsid };
  for (let i = escalation.cursor; i < report.events.length; i += 1) {
    const e = report.events[i];
    const who = e.performedBy?.name ?? e.data.name ?? 'representative';
    if (e.type === 'Chat Message') {
      if (ownLine(e.body ?? '', e.timestamp) || e.performedBy?.type === 'customer') continue;
      const from = e.performedBy?.type === 'representative' ? 'representative' : 'system';
      outgoing.push({
        ...base,
        id: `${escalation.id}.${i}`,
        type: 'escalation.message',
        at: iso(e.timestamp),
        from,
        name: from === 'system' ? 'System' : who,
        text: e.body ?? '',
      });
    } else if (e.type === 'Conference Owner Changed' || e.type === 'Conference Member Added') {
      if (e.performedBy?.type !== 'representative' && !e.data.username) continue;
      if (!next.representatives.includes(who)) next.representatives.push(who);
      if (next.state === 'queued') {
        next.state = 'active';
        next.owner = who;
        outgoing.push({ ...base, id: `${escalation.id}.accepted`, type: 'escalation.accepted', at: iso(e.timestamp), representative: who });
      } else if (e.type === 'Conference Owner Changed' && next.owner !== who) {
        outgoing.push({
          ...base,
          id: `${escalation.id}.${i}`,
          type: 'escalation.transferred',
          at: iso(e.timestamp),
          from: next.owner,
          to: who,
        });
        next.owner = who;
      }
    } else if (e.type === 'Conference Member Departed') {
      next.representatives = next.representatives.filter((r) => r !== who);
    }
  }
  next.cursor = report.events.length;
  if ((report.endTime || leftAt) && next.state !== 'ended') {
    next.state = 'ended';
    outgoing.push({ ...base, id: `${escalation.id}.ended`, type: 'escalation.ended', at: report.endTime?.iso ?? leftAt! });
  }
  return { next, outgoing };
}

/**
 * The watcher: every RSB_CHAT_POLL_MS one tick (one worker, under a lock) reads the reports of every open
 * escalation in batched SupportSession requests — one request per 50 escalations, within the shared rate
 * limit — turns what is new into callbacks in each escalation's outbox, and queues one delivery job per
 * escalation. Deliveries run on any worker, one at a time per escalation (order), and remove an item
 * only after the bot's 2xx (at least once, same webhook-id on a repeat).
 */
@Injectable()
export class ChatWatchService {
  private readonly logger = new Logger('ChatWatch');

  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly escalations: EscalationStore,
    private readonly locks: Locks,
    private readonly targets: CallbackTargets,
    @InjectQueue(QUEUES.chatCallbacks) private readonly callbacks: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * When each escalation is next read, and at what interval: RSB_CHAT_POLL_MS right after activity (a
   * line, a state change, something sent), doubling while it stays quiet up to RSB_CHAT_POLL_MAX_MS.
   * A quiet hour of an open escalation costs about 120 reads instead of 1,800.
   */
  private get pacingKey(): string {
    return this.escalations.paceKey;
  }

  /** `force`: something happened (a line sent, a real-time change): every open escalation is read now. */
  async tick(force = false): Promise<{ open: number; reports: number; callbacks: number; due?: number } | { skipped: string }> {
    const result = await this.locks.withLock('chat-tick', async () => {
      const ids = await this.escalations.open();
      const all = (await Promise.all(ids.map((id) => this.escalations.get(id)))).filter((e): e is Escalation => e !== undefined);
      const now = Date.now();
      const pace = ids.length ? await this.escalations.connection.hmget(this.pacingKey, ...ids.map((id) => `${id}:next`)) : [];
      const nextAt = new Map(ids.map((id, i) => [id, Number(pace[i] ?? 0)]));
      const open = force ? all : all.filter((e) => (nextAt.get(e.id) ?? 0) <= now);
      const active = new Set<string>();
      let reports = 0;
      let produced = 0;
      for (let i = 0; i < open.length; i += LSIDS_PER_REPORT) {
        const batch = open.slice(i, i + LSIDS_PER_REPORT);
        const found = await this.beyondtrust.reporting.supportSessions({ lsids: batch.map((e) => e.lsid) });
        reports += 1;
        const byLsid = new Map(found.map((r) => [r.lsid, r]));
        for (const escalation of batch) {
          const report = byLsid.get(escalation.lsid);
          if (!report) continue;
          const [sent, leftAt] = await Promise.all([this.escalations.sent(escalation.id), this.escalations.leftAt(escalation.id)]);
          const { next, outgoing } = advance(escalation, report, sent, leftAt);
          if (outgoing.length || next.cursor !== escalation.cursor) active.add(escalation.id);
          if (!outgoing.length && next.cursor === escalation.cursor) continue;
          await this.escalations.advance(next, outgoing);
          produced += outgoing.length;
        }
      }
      await this.reschedule(open, active, now);
      // Every escalation with something pending gets its delivery job (a job already waiting keeps the order).
      for (const escalation of all) if ((await this.escalations.pending(escalation.id)) > 0) await this.queueDelivery(escalation.id);
      return { open: all.length, due: open.length, reports, callbacks: produced };
    });
    return result.ran ? result.value : { skipped: 'another tick is running' };
  }

  private get minMs(): number {
    return this.config.env.RSB_CHAT_POLL_MS;
  }

  private async reschedule(read: Escalation[], active: Set<string>, now: number): Promise<void> {
    if (!read.length) return;
    const redis = this.escalations.connection;
    const intervals = await redis.hmget(this.pacingKey, ...read.map((e) => `${e.id}:every`));
    const fields: Record<string, string> = {};
    for (const [i, escalation] of read.entries()) {
      const last = Number(intervals[i] ?? 0) || this.minMs;
      const every = active.has(escalation.id) ? this.minMs : Math.min(this.config.env.RSB_CHAT_POLL_MAX_MS, last * 2);
      fields[`${escalation.id}:every`] = String(every);
      // A little early, so a tick scheduled RSB_CHAT_POLL_MS apart does not skip one by milliseconds.
      fields[`${escalation.id}:next`] = String(now + every - Math.floor(this.minMs / 4));
    }
    await redis.hset(this.pacingKey, fields);
    await redis.pexpire(this.pacingKey, 24 * 3_600_000);
  }

  async queueDelivery(id: string): Promise<void> {
    if (await this.escalations.deliveriesHeld(id)) return;
    await this.callbacks.add('deliver', { escalationId: id }, { ...CHAT_CALLBACK_JOB_OPTIONS, jobId: jobIds.chatDelivery(id) });
  }

  /** RSB_CALLBACK_SECRET, and during a rotation the previous one too: a bot holding either verifies the callback. */
  private signingSecrets(): string[] {
    const env = this.config.env;
    return [env.RSB_CALLBACK_SECRET!, env.RSB_CALLBACK_SECRET_PREVIOUS].filter((s): s is string => Boolean(s));
  }

  /** The bot refused a callback for good: its deliveries wait a while (see EscalationStore.holdDeliveries). */
  async refused(escalationId: string, error: Error): Promise<void> {
    this.logger.warn(
      `escalation ${escalationId}: the bot refused a callback (${error.message}); deliveries wait ${EscalationStore.REFUSED_HOLD_SECONDS} s`,
    );
    await this.escalations.holdDeliveries(escalationId);
  }

  /** Sends the outbox in order; a failure stops here and the job retries from the same item. */
  async deliver(escalationId: string): Promise<number> {
    const escalation = await this.escalations.get(escalationId);
    if (!escalation) return 0;
    // Checked here too, not only when the job is queued: a tick may have queued this delivery between its
    // own check and the refusal that set the hold.
    if (await this.escalations.deliveriesHeld(escalationId)) return 0;
    let sent = 0;
    this.targets.checkSend('chat-callback', escalation.callbackUrl);
    for (let item = await this.escalations.nextOutgoing(escalationId); item; item = await this.escalations.nextOutgoing(escalationId)) {
      const body = JSON.stringify(item);
      await postBotCallback({
        url: escalation.callbackUrl,
        data: body,
        headers: { 'content-type': 'application/json', ...standardWebhookHeaders(this.signingSecrets(), item.id, body) },
        timeout: 10_000,
        ...this.targets.agents,
      });
      await this.escalations.acknowledge(escalationId, item.id);
      sent += 1;
    }
    if (sent) this.logger.debug(`escalation ${escalationId}: ${sent} callback(s) delivered`);
    return sent;
  }
}
