import { Inject, Injectable, Logger } from '@nestjs/common';
import { BeyondTrustError } from '../beyondtrust/beyondtrust.errors';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { SessionKey } from '../beyondtrust/command.types';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { liquid } from '../config/rules';
import { TicketEvent } from '../tickets/ticket-event';
import { TicketUpdate, TicketWriter } from '../tickets/ticket-writer';
import { TicketsService } from '../tickets/tickets.service';
import { writeOnce } from '../tickets/write-once';
import { DeliveryStore } from './delivery.store';
import { LinkStore } from './link.store';
import { route, Route } from './routing';
import { sessionIdentity } from './session-identity';

export interface SessionKeyOutcome {
  /** The key given to the customer, or undefined when the appliance refused to create one. */
  key?: SessionKey & { route: Route };
  /** The appliance's reason, when it refused; it has been written to the ticket as an internal note. */
  failure?: string;
}

/** What has been done for a delivery, in the delivery store. */
const STEP = {
  key: 'key',
  failure: 'failure',
  publicReply: 'publicReply',
  internalNote: 'internalNote',
  failureNote: 'failureNote',
} as const;

/**
 * Flow 1, ticket → session key: route the ticket to a queue, create the key with the ticket's external
 * key and custom fields, write it back to the ticket, and link ticket ↔ external key ↔ short key.
 * Every step is recorded after it succeeds, so running the same delivery again does nothing twice.
 */
@Injectable()
export class SessionKeyService {
  private readonly logger = new Logger('SessionKey');

  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly tickets: TicketsService,
    private readonly deliveries: DeliveryStore,
    private readonly links: LinkStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async handle(event: TicketEvent): Promise<SessionKeyOutcome> {
    const writer = this.tickets.requireWriter(event.system);
    const done = await this.deliveries.get(event.system, event.deliveryId);
    const context = { ticket: { ...event.ticket, system: event.system } };

    let key = done[STEP.key] ? (JSON.parse(done[STEP.key]) as SessionKeyOutcome['key']) : undefined;
    let failure = done[STEP.failure];
    if (!key && failure === undefined) {
      try {
        key = await this.createKey(event);
        await this.deliveries.mark(event.system, event.deliveryId, STEP.key, JSON.stringify(key));
        const link = {
          system: event.system,
          ticketId: event.ticket.id,
          ticketNumber: event.ticket.number,
          ticketUrl: event.ticket.url,
          callbackUrl: event.callbackUrl,
          externalKey: key!.externalKey ?? '',
          shortKey: key!.shortKey,
          createdAt: new Date().toISOString(),
          keyUrl: key!.keyUrl,
          expiresAt: key!.expires?.iso,
          queue: key!.route.queueId,
        };
        await this.links.record(link);
        if (this.config.rules.outcomes.expiredKey && link.expiresAt) await this.links.watchExpiry({ ...link, expiresAt: link.expiresAt });
      } catch (error) {
        // The appliance said no (unknown queue, bad field): tell the agent on the ticket, do not retry.
        if (!(error instanceof BeyondTrustError) || error.retryable) throw error;
        failure = error.message;
        await this.deliveries.mark(event.system, event.deliveryId, STEP.failure, failure);
        await this.links.recordRefusal({
          system: event.system,
          ticketId: event.ticket.id,
          ticketNumber: event.ticket.number,
          createdAt: new Date().toISOString(),
          failure,
        });
      }
    }

    const rules = this.config.rules.writeBack;
    if (key) {
      const values = { ...context, key: this.keyContext(key) };
      await this.step(done, event, STEP.publicReply, writer, async () => {
        const body = (await liquid.parseAndRender(rules.publicReply, values)).trim();
        return body ? { comment: { body, public: true } } : undefined;
      });
      await this.step(done, event, STEP.internalNote, writer, async () => {
        const body = (await liquid.parseAndRender(rules.internalNote, values)).trim();
        const fields: Record<string, string> = {};
        const { fields: fieldTemplates, tags: addTags } = writer.writeBackExtras(rules);
        for (const [id, template] of Object.entries(fieldTemplates ?? {})) fields[id] = await liquid.parseAndRender(template, values);
        if (!body && !Object.keys(fields).length && !addTags?.length) return undefined;
        return { comment: body ? { body, public: false } : undefined, fields, addTags };
      });
      this.logger.log(`${event.system} ticket ${event.ticket.number}: session key ${key.shortKey} in ${key.route.queueId}`);
      return { key };
    }

    await this.step(done, event, STEP.failureNote, writer, async () => ({
      comment: {
        body: (await liquid.parseAndRender(rules.failureNote, { ...context, error: { message: failure } })).trim(),
        public: false,
      },
    }));
    this.logger.warn(`${event.system} ticket ${event.ticket.number}: no session key: ${failure}`);
    return { failure };
  }

  private async createKey(event: TicketEvent): Promise<SessionKeyOutcome['key']> {
    const rules = this.config.rules;
    const chosen = route(event, rules);
    const { externalKey, custom } = await sessionIdentity(rules, event);
    const key = await this.beyondtrust.command.generateSessionKey({
      queueId: chosen.queueId,
      externalKey: externalKey || undefined,
      custom,
      priority: chosen.priority,
      skills: chosen.skills,
      ttl: rules.sessionKey.ttl,
      urlHostname: rules.sessionKey.urlHostname,
    });
    return { ...key, externalKey: key.externalKey ?? externalKey, route: chosen };
  }

  private keyContext(key: NonNullable<SessionKeyOutcome['key']>) {
    return {
      shortKey: key.shortKey,
      url: key.keyUrl,
      site: new URL(key.keyUrl).host,
      expiresAt: key.expires?.iso ?? '',
      ttl: key.ttl,
      queue: key.route.queueId,
      queueType: key.queue.type,
      available: key.queue.available,
      externalKey: key.externalKey,
      rule: key.route.rule,
    };
  }

  /**
   * One write on the ticket, done once per delivery even across a crash (writeOnce): the public reply is
   * recognised by its body, which holds the short key; internal notes by our marker; fields and tags are
   * set again, which is harmless.
   */
  private async step(
    done: Record<string, string>,
    event: TicketEvent,
    step: string,
    writer: TicketWriter,
    build: () => Promise<TicketUpdate | undefined>,
  ): Promise<void> {
    if (done[step]) return;
    const update = await build();
    if (!update) return this.deliveries.mark(event.system, event.deliveryId, step);
    await writeOnce(
      this.deliveries.ledger(event.system, event.deliveryId),
      step,
      writer,
      { ticketId: event.ticket.id, context: { deliveryId: event.deliveryId, step, callbackUrl: event.callbackUrl } },
      { update },
      { value: '1' },
    );
  }
}
