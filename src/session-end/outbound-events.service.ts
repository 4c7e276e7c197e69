import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { ApiError } from '../common/api-error';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { storedOr503 } from '../jobs/enqueue';
import { RedisService } from '../redis/redis.service';
import { parseOutboundEvent, SESSION_END_EVENT, STATE_EVENTS, SURVEY_EVENTS } from './outbound-event';
import { SessionEndQueue } from './session-end.queue';
import { SessionStateStore } from './session-stores';
import { TicketSessionsStore } from './ticket-sessions.store';

const digest = (value: string) => createHash('sha256').update(value).digest();

function allowList(entries: string[]): BlockList | undefined {
  if (!entries.length) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix !== undefined) list.addSubnet(address, Number(prefix), type);
    else list.addAddress(address, type);
  }
  return list;
}

/** What reached the recipient URL: the peer's address, the token presented (query or proxy header), the body. */
export interface OutboundDelivery {
  source: string;
  token?: string;
  body: unknown;
}

export interface OutboundEventAnswer {
  ok: true;
  jobId?: string;
  ignored?: string;
}

/**
 * The appliance's outbound events (Management > Outbound Events > HTTP recipient). The appliance sends
 * nothing else until an event gets its 200, so an authenticated event we cannot use is logged, counted
 * and answered 200; only an event whose work could not be stored durably gets a 503 (and comes back).
 */
@Injectable()
export class OutboundEventsService {
  private readonly logger = new Logger('OutboundEvents');
  private readonly allowed?: BlockList;

  constructor(
    private readonly pulls: SessionEndQueue,
    private readonly states: SessionStateStore,
    private readonly redis: RedisService,
    private readonly ticketSessions: TicketSessionsStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.allowed = allowList(config.env.BT_EVENTS_ALLOWED_IPS);
  }

  async receive(delivery: OutboundDelivery): Promise<OutboundEventAnswer> {
    this.authenticate(delivery);
    const event = parseOutboundEvent(delivery.body);
    const known = event.event === SESSION_END_EVENT || SURVEY_EVENTS.has(event.event) || STATE_EVENTS.has(event.event);
    if (!known || !event.lsid) {
      const reason = !event.event
        ? 'no event name'
        : !known
          ? `event ${event.event} is not used`
          : `event ${event.event} carries no usable lsid`;
      await this.count('events.ignored');
      this.logger.warn(`outbound event ignored: ${reason}`);
      return { ok: true, ignored: reason };
    }
    await this.count(`events.${event.event}`);

    if (event.event === SESSION_END_EVENT) {
      const jobId = await this.pulls.add({ lsid: event.lsid, trigger: 'event', externalKey: event.externalKey });
      return { ok: true, jobId };
    }
    if (SURVEY_EVENTS.has(event.event)) {
      const jobId = await this.pulls.add(
        { lsid: event.lsid, trigger: 'survey', externalKey: event.externalKey },
        event.event.includes('customer') ? 'customer' : 'rep',
      );
      return { ok: true, jobId };
    }
    await this.durably(() => this.recordState(event.lsid!, event.event, event.externalKey, event.fields, event.timestamp));
    return { ok: true };
  }

  private authenticate({ source: peer, token: presented }: OutboundDelivery): void {
    const expected = this.config.env.BT_EVENTS_TOKEN;
    if (!expected) throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', 'Outbound events are not enabled (set BT_EVENTS_TOKEN)');
    const source = peer.replace(/^::ffff:/, '');
    if (this.allowed && !this.allowed.check(source, isIPv4(source) ? 'ipv4' : 'ipv6'))
      throw new ApiError(HttpStatus.FORBIDDEN, 'forbidden', `Outbound events are not accepted from ${source} (BT_EVENTS_ALLOWED_IPS)`);
    if (!presented)
      throw new ApiError(
        HttpStatus.UNAUTHORIZED,
        'unauthorized',
        'The outbound event token is missing (the token query parameter of the recipient URL, or the X-RSB-Events-Token header)',
      );
    // BT_EVENTS_TOKEN_PREVIOUS is accepted too while the appliance is switched over (rotation).
    let matches = false;
    for (const token of [expected, this.config.env.BT_EVENTS_TOKEN_PREVIOUS])
      if (token) matches = timingSafeEqual(digest(presented), digest(token)) || matches;
    if (!matches) throw new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', 'The outbound event token does not match BT_EVENTS_TOKEN');
  }

  private async recordState(
    lsid: string,
    name: string,
    externalKey: string | undefined,
    fields: Record<string, string>,
    at?: number,
  ): Promise<void> {
    // Member and owner events name the member; a customer joining is not a representative.
    const rep = fields.type === 'customer' ? undefined : fields.username || fields.user_id || fields.display_name;
    const when = new Date((at ?? Date.now() / 1000) * 1000).toISOString();
    if (name === 'support_conference_begin')
      await this.states.update(lsid, { state: 'active', externalKey, startedAt: when, lastEvent: name });
    else {
      await this.states.update(lsid, {
        externalKey,
        lastEvent: name,
        owner: name === 'support_conference_owner_changed' ? rep : undefined,
      });
      if (rep && name !== 'support_conference_owner_changed')
        await this.states.member(lsid, rep, name === 'support_conference_member_added');
    }
    const ticket = await this.ticketSessions.fromEvent(lsid, externalKey);
    if (ticket) await this.states.update(lsid, { ticket });
  }

  private async count(field: string): Promise<void> {
    await this.durably(() => this.redis.connection.hincrby(this.redis.key('stats'), field, 1));
  }

  private durably<T>(work: () => Promise<T>): Promise<T> {
    return storedOr503(work, 'The event could not be stored (Redis is unavailable); it will be sent again.');
  }
}
