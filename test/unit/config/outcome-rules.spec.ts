import 'reflect-metadata';
import { validateRules } from '../../../src/config/rules';

describe('rules file: outcomes', () => {
  it('accepts a rule for each system', () => {
    const { problems, rules } = validateRules({
      outcomes: {
        rules: [
          {
            name: 'fixed',
            match: { outcomes: ['ended'], minDurationSeconds: 60, repSurvey: { resolved: ['yes'] }, custom: { tier: 'gold' } },
            note: 'Solved in {{ session.lsid }}',
            zendesk: { status: 'solved', customFields: { '360001': '{{ outcome.outcome }}' }, tags: ['rs_solved'] },
            servicenow: { state: '6', close_code: 'Solved (Permanently)', close_notes: '{{ session.duration }}' },
            jira: { transition: 'Resolve', fields: { customfield_10042: 'x' } },
          },
        ],
      },
    });
    expect(problems).toEqual([]);
    expect(rules.outcomes.rules[0].jira?.transition).toBe('Resolve');
  });

  it('names each problem: an unknown outcome, a Zendesk status that does not exist, a system, broken Liquid', () => {
    const { problems } = validateRules({
      outcomes: {
        rules: [
          {
            match: { outcomes: ['abandoned'], systems: ['freshdesk'], minDurationSeconds: -1 },
            note: '{% if %}',
            zendesk: { status: 'done' },
            jira: { fields: { summary: '{{ x' } },
          },
        ],
      },
    });
    expect(problems.map((p) => p.path).sort()).toEqual(
      [
        'outcomes.rules.0.jira.fields.summary',
        'outcomes.rules.0.match.minDurationSeconds',
        'outcomes.rules.0.match.outcomes',
        'outcomes.rules.0.match.systems',
        'outcomes.rules.0.note',
        'outcomes.rules.0.zendesk.status',
      ].sort(),
    );
  });
});
