import { liquid, Rules } from '../config/rules';
import { TicketEvent } from '../tickets/ticket-event';

/**
 * What ties a BeyondTrust session to its ticket, from the rules file: the external key
 * (`sessionKey.externalKey`) and the `session.custom.*` fields. Session keys and Jump links share it, so
 * either kind of session comes back to the same ticket.
 */
export async function sessionIdentity(rules: Rules, event: TicketEvent): Promise<{ externalKey: string; custom: Record<string, string> }> {
  const context = { ticket: { ...event.ticket, system: event.system } };
  const externalKey = (await liquid.parseAndRender(rules.sessionKey.externalKey, context)).trim();
  const custom: Record<string, string> = {};
  for (const [code, template] of Object.entries(rules.fields)) {
    const value = (await liquid.parseAndRender(template, context)).trim();
    if (value) custom[code] = value;
  }
  return { externalKey, custom };
}
