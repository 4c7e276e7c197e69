import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { liquid, TicketSystemName } from '../config/rules';
import { LinkStore } from '../sessions/link.store';
import { KEY_FORMAT_SYSTEMS, TicketsService } from '../tickets/tickets.service';
import type { SessionView } from './transcript';

export interface ResolvedTicket {
  system: TicketSystemName;
  id: string;
  number: string;
  url?: string;
  callbackUrl?: string;
  /** How it was found: the link rs-bridge recorded, the key's own format, or a ticket created for it. */
  via: 'link' | 'format' | 'created';
  /** Found by the link of a session key: the key, and its internal note to ride on the session's note. */
  shortKey?: string;
  keyNote?: string;
}

/**
 * `zendesk:123`, `servicenow:INC0012345`, `jira:SD-12`, or a bare key in a system's own ticket format
 * (each writer's `ticketFromKey`: a Zendesk id, a ServiceNow number, a Jira issue key).
 */
const PREFIXED = new RegExp(`^(${KEY_FORMAT_SYSTEMS.join('|')})[:#/ -]\\s*(\\S+)$`, 'i');

/**
 * Finds the ticket an ended session belongs to from its external key: the link rs-bridge recorded when
 * it created the key first; then the key's format (a representative may have typed or edited the key
 * mid-session); then, when auto-create is on, a new ticket, linked so later triggers find it.
 */
@Injectable()
export class TicketResolver {
  private readonly logger = new Logger('TicketResolver');

  constructor(
    private readonly links: LinkStore,
    private readonly tickets: TicketsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Without creating anything: what the poller asks before it enqueues a session. */
  async find(externalKey: string | undefined): Promise<ResolvedTicket | undefined> {
    const key = externalKey?.trim();
    if (!key) return undefined;
    const link = await this.links.byExternalKey(key);
    if (link && this.tickets.enabled(link.system as TicketSystemName))
      return {
        system: link.system as TicketSystemName,
        id: link.ticketId,
        number: link.ticketNumber,
        url: link.ticketUrl,
        callbackUrl: link.callbackUrl,
        via: 'link',
        shortKey: link.shortKey || undefined,
        keyNote: link.keyNote,
      };
    return this.byFormat(key);
  }

  /** Whether auto-create would make a ticket for this key. */
  wouldCreate(externalKey: string | undefined): boolean {
    const env = this.config.env;
    if (env.RSB_AUTO_CREATE === 'off') return false;
    return !env.RSB_AUTO_CREATE_TRIGGER || (externalKey ?? '').includes(env.RSB_AUTO_CREATE_TRIGGER);
  }

  async findOrCreate(externalKey: string | undefined, view: SessionView): Promise<ResolvedTicket | undefined> {
    const found = (await this.find(externalKey)) ?? (await this.createdFor(view.lsid));
    if (found || !this.wouldCreate(externalKey)) return found;
    const system = this.config.env.RSB_AUTO_CREATE as 'zendesk' | 'servicenow' | 'jira';
    const writer = this.tickets.writer(system);
    if (!writer?.createTicket || !writer.ticketByReference) return undefined;
    // Looked up first: an earlier attempt may have created the ticket and stopped before linking it.
    const reference = `rs-bridge:${view.lsid}`;
    let created = await writer.ticketByReference(reference);
    if (created) this.logger.log(`found ${system} ticket ${created.number}, created earlier for session ${view.lsid}`);
    else {
      const subject = (await liquid.parseAndRender(this.config.rules.sessionEnd.ticketSubject, { session: view })).trim();
      created = await writer.createTicket({
        subject: subject || `Remote support session ${view.lsid}`,
        description: `Created by rs-bridge for remote support session ${view.lsid}, which ended without a linked ticket${externalKey ? ` (external key ${externalKey})` : ''}.`,
        reference,
      });
      this.logger.log(`created ${system} ticket ${created.number} for session ${view.lsid}`);
    }
    await this.links.record({
      system,
      ticketId: created.id,
      ticketNumber: created.number,
      ticketUrl: created.url,
      // Linked by lsid (the external key may be shared or absent), so a retried pull finds this ticket.
      externalKey: `lsid:${view.lsid}`,
      shortKey: '',
      createdAt: new Date().toISOString(),
    });
    return { system, id: created.id, number: created.number, url: created.url, via: 'created' };
  }

  /** The link an earlier pull created for an unkeyed session. */
  async createdFor(lsid: string): Promise<ResolvedTicket | undefined> {
    const link = await this.links.byExternalKey(`lsid:${lsid}`);
    return link
      ? { system: link.system as TicketSystemName, id: link.ticketId, number: link.ticketNumber, url: link.ticketUrl, via: 'created' }
      : undefined;
  }

  private async byFormat(key: string): Promise<ResolvedTicket | undefined> {
    const prefixed = PREFIXED.exec(key);
    const system = prefixed?.[1].toLowerCase();
    const value = prefixed ? prefixed[2] : key;
    // In this order, so a bare key that fits two formats goes where it always went.
    for (const name of KEY_FORMAT_SYSTEMS) {
      if (system && system !== name) continue;
      const ticket = await this.tickets.writer(name)?.ticketFromKey?.(value);
      if (ticket) return { system: name, id: ticket.id, number: ticket.number, via: 'format' };
    }
    return undefined;
  }
}
