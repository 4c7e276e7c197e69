import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigProblem } from './config.error';
import { Rules, validateRules } from './rules';

export { Rules };

/**
 * Reads and validates the rules file named by RSB_RULES_FILE (schema in rules.ts). A typo in the path,
 * the YAML, a section or a Liquid template stops the boot, with every problem named, instead of a flow.
 */
export function loadRulesFile(path: string | undefined): { rules: Rules; problem?: ConfigProblem; problems?: ConfigProblem[] } {
  if (!path) return { rules: new Rules() };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { rules: new Rules(), problem: { variable: 'RSB_RULES_FILE', expected: 'a readable YAML file', found: `${path} (${code})` } };
  }
  try {
    const parsed: unknown = parse(text) ?? {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      return {
        rules: new Rules(),
        problem: {
          variable: 'RSB_RULES_FILE',
          expected: 'a YAML mapping at the top level',
          found: `${path} holds a ${Array.isArray(parsed) ? 'list' : typeof parsed}`,
        },
      };
    }
    const { rules, problems } = validateRules(parsed as Record<string, unknown>);
    return {
      rules,
      problems: problems.map((p) => ({ variable: `RSB_RULES_FILE (${p.path})`, expected: p.message, found: `in ${path}` })),
    };
  } catch (error) {
    return {
      rules: new Rules(),
      problem: { variable: 'RSB_RULES_FILE', expected: 'valid YAML', found: `${path}: ${(error as Error).message.split('\n')[0]}` },
    };
  }
}
