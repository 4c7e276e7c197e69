import type { TicketAction, TicketSystemName } from '../config/rules';
import type { RequestTarget } from './request-target';

/** One inbound request from a ticket system, in the same shape whatever system sent it. */
export interface TicketEvent {
  system: TicketSystemName;
  /** The sender's id for this delivery: a redelivery carries the same one. */
  deliveryId: string;
  action: TicketAction;
  /** Co-browse and Jump requests: what they aim at. */
  target?: RequestTarget;
  /** The agent working the ticket (a co-browse watch URL is made for them). */
  assignee?: { id?: string; name?: string };
  /** Generic systems: where rs-bridge sends what it would write on the ticket. */
  callbackUrl?: string;
  ticket: {
    /** The id the system's API uses (Zendesk ticket id, ServiceNow sys_id). */
    id: string;
    /** The number people see (Zendesk id, ServiceNow INC0012345). */
    number: string;
    url?: string;
    subject?: string;
    requester?: { name?: string; email?: string };
    priority?: string;
    group?: string;
    tags: string[];
    fields: Record<string, string>;
  };
}
