import { Rules, RoutingRule } from '../config/rules';
import { TicketEvent } from '../tickets/ticket-event';

export interface Route {
  queueId: string;
  priority?: 1 | 2 | 3;
  skills?: string[];
  /** The rule that matched, for the internal note and the logs. */
  rule?: string;
}

const lower = (v?: string) => v?.trim().toLowerCase();

function matches(rule: RoutingRule, event: TicketEvent): boolean {
  const m = rule.match;
  const t = event.ticket;
  if (m.system && m.system !== event.system) return false;
  if (m.groups && !m.groups.some((g) => lower(g) === lower(t.group))) return false;
  if (m.priorities && !m.priorities.some((p) => lower(p) === lower(t.priority))) return false;
  if (m.tags && !m.tags.every((tag) => t.tags.map(lower).includes(lower(tag)))) return false;
  if (m.fields && !Object.entries(m.fields).every(([name, value]) => lower(t.fields[name]) === lower(String(value)))) return false;
  return true;
}

/** First matching rule wins; otherwise the default queue. Session priority falls back to the ticket's. */
export function route(event: TicketEvent, rules: Rules): Route {
  const rule = rules.routing.rules.find((r) => matches(r, event));
  const ticketPriority = event.ticket.priority ? rules.routing.priorities[lower(event.ticket.priority)!] : undefined;
  return {
    queueId: rule?.queue ?? rules.routing.default,
    priority: rule?.priority ?? ticketPriority,
    skills: rule?.skills,
    rule: rule ? (rule.name ?? `rule ${rules.routing.rules.indexOf(rule) + 1}`) : undefined,
  };
}
