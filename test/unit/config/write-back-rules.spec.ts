import 'reflect-metadata';
import { validateRules } from '../../../src/config/rules';

describe('rules file: writeBack.internalNoteTiming', () => {
  it('defaults to auto', () => {
    const { problems, rules } = validateRules({});
    expect(problems).toEqual([]);
    expect(rules.writeBack.internalNoteTiming).toBe('auto');
  });

  it.each(['auto', 'withKey', 'withSessionEnd'])('accepts %s', (timing) => {
    const { problems, rules } = validateRules({ writeBack: { internalNoteTiming: timing } });
    expect(problems).toEqual([]);
    expect(rules.writeBack.internalNoteTiming).toBe(timing);
  });

  it('names the allowed values for anything else', () => {
    const { problems } = validateRules({ writeBack: { internalNoteTiming: 'later' } });
    expect(problems).toEqual([expect.objectContaining({ path: 'writeBack.internalNoteTiming' })]);
    expect(JSON.stringify(problems)).toContain('one of auto, withKey, withSessionEnd');
  });
});
