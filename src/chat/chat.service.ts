import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { BeyondTrustError } from '../beyondtrust/beyondtrust.errors';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';

import { QUEUES } from '../jobs/queues';
import { LinkStore } from '../sessions/link.store';
import { route } from '../sessions/routing';
import { sessionIdentity } from '../sessions/session-identity';
import { TicketEvent } from '../tickets/ticket-event';
import { ChatError } from './chat.errors';
import { ChatMessageDto, CreateEscalationDto, escapeBBCode } from './chat.dto';
import { Escalation, EscalationStore } from './escalation.store';

/** The appliance's refusal, as the bot should see it: 422 with the appliance's words; an outage 503. */
function applianceError(error: unknown): never {
  if (error instanceof BeyondTrustError) {
    if (error.retryable) throw new ChatError('unavailable', 'appliance_unavailable', `The appliance is unavailable: ${error.message}`);
    throw new ChatError('refused', 'appliance_refused', `The appliance refused: ${error.message}`);
  }
  throw error;
}

const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * Flow 3: a bot hands a conversation to a live representative. Escalate = session key + virtual customer
 * + the bot transcript replayed with its original times; then the bot relays the customer's lines and
 * leaves when done. Replies and state come back through the watcher (chat-watch.service.ts).
 */
@Injectable()
export class ChatService {
  private readonly logger = new Logger('Chat');

  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly escalations: EscalationStore,
    private readonly links: LinkStore,
    @InjectQueue(QUEUES.chatWatch) private readonly watch: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get enabled(): boolean {
    return Boolean(this.config.env.RSB_CALLBACK_SECRET) && this.beyondtrust.configured;
  }

  async escalate(dto: CreateEscalationDto): Promise<Escalation> {
    const id = randomUUID();
    const rules = this.config.rules;
    const event: TicketEvent = {
      system: dto.ticket?.system ?? 'generic',
      deliveryId: id,
      action: 'session.requested',
      ticket: { id: dto.ticket?.id ?? id, number: dto.ticket?.number ?? dto.ticket?.id ?? id, tags: [], fields: dto.fields ?? {} },
    };
    const identity = dto.ticket ? await sessionIdentity(rules, event) : { externalKey: '', custom: {} };
    // Unique per escalation unless it belongs to a ticket: it is how the session is found in the reports.
    const externalKey = dto.externalKey || identity.externalKey || `esc-${id}`;
    const queueId = dto.queue ?? route(event, rules).queueId;
    const command = this.beyondtrust.command;
    const createdAt = new Date();
    let key, customer;
    try {
      key = await command.generateSessionKey({ queueId, externalKey, custom: { ...identity.custom, ...(dto.fields ?? {}) }, ttl: 300 });
      customer = await command.createVirtualCustomer({
        shortKey: key.shortKey,
        name: dto.customer.name,
        ipAddress: dto.customer.ipAddress,
        operatingSystem: dto.customer.operatingSystem,
        computerName: dto.customer.computerName,
        chatUrl: true,
      });
    } catch (error) {
      applianceError(error);
    }
    const lsid = await this.findLsid(externalKey, createdAt);
    for (const line of dto.transcript ?? []) {
      const at = unixSeconds(line.at);
      const past = at < Date.now() / 1000;
      const body = escapeBBCode(line.from === 'bot' ? `Bot: ${line.text}` : line.text);
      // Noted before it is sent: the watcher must know the line as ours however the report labels it.
      await this.escalations.recordSent(id, { body, at: past ? at : Math.floor(Date.now() / 1000) });
      try {
        await command.sendChatMessage({
          lsid,
          body,
          impersonate: line.from === 'customer' ? 'customer' : undefined,
          timestamp: past ? at : undefined,
        });
      } catch (error) {
        applianceError(error);
      }
    }
    const escalation: Escalation = {
      id,
      lsid,
      externalKey,
      shortKey: key.shortKey,
      queueId,
      state: 'queued',
      callbackUrl: dto.callbackUrl,
      downloadUrl: customer.downloadUrl,
      createdAt: createdAt.toISOString(),
      representatives: [],
      cursor: 0,
      ticket: dto.ticket ? { system: dto.ticket.system, id: dto.ticket.id, number: dto.ticket.number ?? dto.ticket.id } : undefined,
    };
    await this.escalations.create(escalation);
    if (dto.ticket)
      await this.links.record({
        system: dto.ticket.system,
        ticketId: dto.ticket.id,
        ticketNumber: dto.ticket.number ?? dto.ticket.id,
        externalKey,
        shortKey: key.shortKey,
        createdAt: escalation.createdAt,
      });
    this.logger.log(`escalation ${id}: session ${lsid} in ${queueId}, ${dto.transcript?.length ?? 0} transcript line(s) replayed`);
    return escalation;
  }

  async get(id: string): Promise<Escalation> {
    const escalation = /^[0-9a-f-]{36}$/.test(id) ? await this.escalations.get(id) : undefined;
    if (!escalation) throw new ChatError('not_found', 'not_found', `No escalation ${id}`);
    return escalation;
  }

  async send(id: string, dto: ChatMessageDto): Promise<void> {
    const escalation = await this.get(id);
    if (escalation.state === 'ended' || (await this.escalations.leftAt(id)))
      throw new ChatError('conflict', 'escalation_ended', `Escalation ${id} has ended`);
    const body = dto.formatted ? dto.text : escapeBBCode(dto.text);
    await this.escalations.recordSent(id, { body, at: Math.floor(Date.now() / 1000) });
    try {
      await this.beyondtrust.command.sendChatMessage({ lsid: escalation.lsid, body, impersonate: 'customer' });
    } catch (error) {
      applianceError(error);
    }
  }

  /**
   * The customer leaves (idempotent) and the escalation ends for the bot: the watcher sends what the session
   * said until now, then escalation.ended. The guide says leave_session removes the customer, not that the
   * session ends: a representative may keep it open (its end still reaches the ticket by the session-end flow).
   */
  async leave(id: string): Promise<Escalation> {
    const escalation = await this.get(id);
    if (escalation.state !== 'ended') {
      try {
        await this.beyondtrust.command.leaveSession(escalation.lsid, { customer: true });
      } catch (error) {
        // Already gone (a second DELETE, or the session ended meanwhile): that is what was asked.
        if (
          !(error instanceof BeyondTrustError) ||
          error.retryable ||
          !/not in the session|not found|no longer|not active/i.test(error.message)
        )
          applianceError(error);
      }
      await this.escalations.markLeft(id, new Date().toISOString());
      await this.watch.add('tick', { force: true }, { removeOnComplete: true, removeOnFail: true });
    }
    return escalation;
  }

  /** create_virtual_customer answers no lsid: find the session by its external key, within a bound. */
  private async findLsid(externalKey: string, since: Date): Promise<string> {
    const deadline = Date.now() + this.config.env.RSB_CHAT_LSID_TIMEOUT_MS;
    for (let delay = 200; ; delay = Math.min(delay * 2, 2000)) {
      const sessions = await this.beyondtrust.reporting
        .supportSessionListing({ startTime: Math.floor(since.getTime() / 1000) - 60, duration: 0 })
        .catch((error: unknown) => applianceError(error));
      const found = sessions.find((s) => s.externalKey === externalKey);
      if (found) return found.lsid;
      if (Date.now() + delay > deadline)
        throw new ChatError(
          'timeout',
          'session_not_found',
          `The session for external key ${externalKey} did not appear in the appliance's reports within ${this.config.env.RSB_CHAT_LSID_TIMEOUT_MS} ms (RSB_CHAT_LSID_TIMEOUT_MS)`,
        );
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
