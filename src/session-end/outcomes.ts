import { liquid, OutcomeMatch, OutcomeRule, SessionOutcome, TicketSystemName } from '../config/rules';
import type { TicketUpdate, TicketWriter } from '../tickets/ticket-writer';
import type { SessionView } from './transcript';

/** What an outcome rule is decided on, from the session's report. */
export interface OutcomeFacts {
  system: TicketSystemName;
  outcome: SessionOutcome;
  durationSeconds?: number;
  repSurvey: Record<string, string>;
  customerSurvey: Record<string, string>;
  custom: Record<string, string>;
}

const lower = (s: string) => s.trim().toLowerCase();
const keyed = (list: { question: string; answer: string }[]) => Object.fromEntries(list.map((q) => [lower(q.question), q.answer]));

export function outcomeFacts(system: TicketSystemName, view: SessionView, customersJoined: number): OutcomeFacts {
  const start = Date.parse(view.start);
  const end = Date.parse(view.end);
  return {
    system,
    outcome: customersJoined > 0 ? 'ended' : 'customer_never_joined',
    durationSeconds: Number.isFinite(start) && Number.isFinite(end) ? Math.round((end - start) / 1000) : undefined,
    repSurvey: keyed(view.surveys.rep),
    customerSurvey: keyed(view.surveys.customer),
    custom: Object.fromEntries(view.custom.map((c) => [lower(c.code), c.value])),
  };
}

/** Every wanted key present, with one of its wanted values (case and surrounding space ignored). */
function holds(wanted: Record<string, string | string[]> | undefined, have: Record<string, string>): boolean {
  return Object.entries(wanted ?? {}).every(([key, values]) => {
    const value = have[lower(key)];
    return value !== undefined && (Array.isArray(values) ? values : [values]).some((v) => lower(String(v)) === lower(value));
  });
}

function matches(m: OutcomeMatch, f: OutcomeFacts): boolean {
  if (m.systems?.length && !m.systems.includes(f.system)) return false;
  if (m.outcomes?.length && !m.outcomes.includes(f.outcome)) return false;
  if (m.minDurationSeconds !== undefined && (f.durationSeconds ?? 0) < m.minDurationSeconds) return false;
  if (m.maxDurationSeconds !== undefined && (f.durationSeconds ?? Infinity) > m.maxDurationSeconds) return false;
  return holds(m.repSurvey, f.repSurvey) && holds(m.customerSurvey, f.customerSurvey) && holds(m.custom, f.custom);
}

/** The first rule that matches and says something for this ticket system (a rule for others is passed over). */
export function chooseOutcome(rules: OutcomeRule[], facts: OutcomeFacts): { rule: OutcomeRule; index: number } | undefined {
  const index = rules.findIndex((r) => matches(r.match, facts) && (r.note || r[facts.system as 'zendesk' | 'servicenow' | 'jira']));
  return index < 0 ? undefined : { rule: rules[index], index };
}

const render = async (template: string | undefined, values: object) =>
  template === undefined ? undefined : (await liquid.parseAndRender(template, values)).trim();

/** The change a rule makes on the writer's ticket, its templates rendered; no comment (the note is its own write). */
export function outcomeUpdate(rule: OutcomeRule, writer: TicketWriter, values: object): Promise<TicketUpdate> {
  return writer.outcomeUpdate(rule, async (template) => (await render(template, values))!);
}
