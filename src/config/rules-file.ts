import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigProblem } from './config.error';

export type Rules = Record<string, unknown>;

/**
 * Reads the rules file named by RSB_RULES_FILE. Later modules validate their own sections; here we only
 * make sure it is a readable YAML mapping so a typo in the path stops the boot instead of a flow.
 */
export function loadRulesFile(path: string | undefined): { rules: Rules; problem?: ConfigProblem } {
  if (!path) return { rules: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { rules: {}, problem: { variable: 'RSB_RULES_FILE', expected: 'a readable YAML file', found: `${path} (${code})` } };
  }
  try {
    const parsed: unknown = parse(text) ?? {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      return {
        rules: {},
        problem: {
          variable: 'RSB_RULES_FILE',
          expected: 'a YAML mapping at the top level',
          found: `${path} holds a ${Array.isArray(parsed) ? 'list' : typeof parsed}`,
        },
      };
    }
    return { rules: parsed as Rules };
  } catch (error) {
    return {
      rules: {},
      problem: { variable: 'RSB_RULES_FILE', expected: 'valid YAML', found: `${path}: ${(error as Error).message.split('\n')[0]}` },
    };
  }
}
