import 'reflect-metadata';
import { validateRules } from '../../../src/config/rules';
import { route } from '../../../src/sessions/routing';
import type { TicketEvent } from '../../../src/tickets/ticket-event';

const rulesOf = (routing: Record<string, unknown>) => {
  const { rules, problems } = validateRules({ routing });
  expect(problems).toEqual([]);
  return rules;
};

const event = (ticket: Partial<TicketEvent['ticket']> = {}, system: TicketEvent['system'] = 'zendesk'): TicketEvent => ({
  system,
  deliveryId: 'd-1',
  action: 'session.requested',
  ticket: { id: '1', number: '1', tags: [], fields: {}, ...ticket },
});

describe('routing a ticket to a queue', () => {
  const rules = rulesOf({
    default: 'team:9',
    rules: [
      { name: 'vip', match: { tags: ['VIP', 'paid'] }, queue: 'team:1', priority: 1, skills: ['gold'] },
      { match: { system: 'servicenow', groups: ['Network'] }, queue: 'team:2' },
      { name: 'by field', match: { fields: { product: 'Printer' }, priorities: ['high'] }, queue: 'rep:7' },
    ],
  });

  it('takes the default queue, with the priority the ticket names, when no rule matches', () => {
    expect(route(event({ priority: 'Low' }), rules)).toEqual({ queueId: 'team:9', priority: 3, skills: undefined, rule: undefined });
  });

  it('matches tags only when every tag of the rule is on the ticket, case-insensitively', () => {
    expect(route(event({ tags: ['vip'] }), rules).queueId).toBe('team:9');
    expect(route(event({ tags: ['paid', 'Vip', 'other'] }), rules)).toEqual({
      queueId: 'team:1',
      priority: 1,
      skills: ['gold'],
      rule: 'vip',
    });
  });

  it('names an unnamed rule by its position, and checks the system', () => {
    expect(route(event({ group: 'network' }, 'servicenow'), rules)).toMatchObject({ queueId: 'team:2', rule: 'rule 2' });
    expect(route(event({ group: 'network' }, 'zendesk'), rules).queueId).toBe('team:9');
  });

  it('needs every criterion of a rule: a field value and a priority', () => {
    expect(route(event({ fields: { product: ' printer ' }, priority: 'HIGH' }), rules)).toMatchObject({ queueId: 'rep:7', priority: 1 });
    expect(route(event({ fields: { product: 'printer' }, priority: 'low' }), rules).queueId).toBe('team:9');
  });

  it('lets the first matching rule win', () => {
    expect(route(event({ tags: ['vip', 'paid'], fields: { product: 'printer' }, priority: 'high' }), rules).rule).toBe('vip');
  });

  it('leaves the priority unset for a ticket priority the map does not know', () => {
    expect(route(event({ priority: 'whenever' }), rules).priority).toBeUndefined();
  });
});
