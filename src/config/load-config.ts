import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import type { JobsOptions } from 'bullmq';
import { ConfigError, ConfigProblem } from './config.error';
import { envVarsOf } from './env-var.decorator';
import { Environment } from './environment';
import { loadRulesFile, Rules } from './rules-file';
import { effectivePrefix } from './redis-settings';

export interface AppConfig {
  env: Environment;
  rules: Rules;
  /** Values that must never reach a log line, an error or job data. */
  secrets: string[];
  /**
   * The appliance limiter's "hour" in ms. Never read from the environment: only the compressed-hour bench
   * sets it, on an app it runs in its own process (bench/capacity.ts --compressed-hour).
   */
  btHourMs?: number;
  /**
   * Attempts and backoff for the jobs that retry for hours (ticket events and write-backs, session pulls and
   * recording transfers), in place of theirs. Never read from the environment: only tests set it, so that
   * a give-up comes in seconds instead of a day.
   */
  jobRetry?: Pick<JobsOptions, 'attempts' | 'backoff'>;
}

const describeFound = (raw: string | undefined, sensitive: boolean): string => {
  if (raw === undefined) return 'nothing (not set)';
  if (sensitive) return `a hidden value of ${raw.length} characters`;
  return JSON.stringify(raw);
};

/**
 * Reads and validates the environment. An empty variable counts as unset, as `.env` files write it.
 * Throws ConfigError listing every problem; never includes the value of a sensitive variable.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const vars = envVarsOf(Environment);
  const plain: Record<string, string> = {};
  for (const v of vars) {
    const raw = source[v.name];
    if (raw !== undefined && raw.trim() !== '') plain[v.name] = raw.trim();
  }
  const env = plainToInstance(Environment, plain, { exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: true });

  const problems: ConfigProblem[] = errors.map((error: ValidationError) => {
    const meta = vars.find((v) => v.name === error.property);
    const expected = [...new Set(Object.values(error.constraints ?? {}))].join(', ') || 'a valid value';
    return { variable: error.property, expected, found: describeFound(plain[error.property], meta?.sensitive ?? false) };
  });

  const autoCreateIn = { zendesk: 'ZENDESK_BASE_URL', servicenow: 'SERVICENOW_INSTANCE_URL', jira: 'JIRA_BASE_URL' } as const;
  if (env.RSB_AUTO_CREATE && env.RSB_AUTO_CREATE !== 'off' && !plain[autoCreateIn[env.RSB_AUTO_CREATE]]) {
    problems.push({
      variable: 'RSB_AUTO_CREATE',
      expected: `a configured ticket system (set ${autoCreateIn[env.RSB_AUTO_CREATE]} or use off)`,
      found: env.RSB_AUTO_CREATE,
    });
  }
  if (env.RSB_AUTO_CREATE === 'jira' && !(plain.JIRA_SERVICE_DESK_ID && plain.JIRA_REQUEST_TYPE_ID)) {
    problems.push({
      variable: 'RSB_AUTO_CREATE',
      expected: 'JIRA_SERVICE_DESK_ID and JIRA_REQUEST_TYPE_ID with jira (where the requests are created)',
      found: 'jira',
    });
  }
  problems.push(...redisModeProblems(plain));
  env.RSB_REDIS_PREFIX = effectivePrefix(env, env.RSB_REDIS_PREFIX);
  const { rules, problem, problems: ruleProblems } = loadRulesFile(env.RSB_RULES_FILE);
  if (problem) problems.push(problem);
  if (ruleProblems) problems.push(...ruleProblems);
  if (problems.length > 0) throw new ConfigError(problems);

  return { env, rules, secrets: secretValues(env) };
}

const REDIS_MODES = { REDIS_URL: 'a single Redis', REDIS_SENTINELS: 'Sentinel', REDIS_CLUSTER_NODES: 'Cluster' } as const;

/** Exactly one way to reach Redis (none set: REDIS_URL's default), and no setting of another mode. */
function redisModeProblems(plain: Record<string, string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const chosen = Object.keys(REDIS_MODES).filter((name) => plain[name] !== undefined);
  if (chosen.length > 1)
    problems.push({
      variable: chosen.join(', '),
      expected: `exactly one Redis mode: ${Object.entries(REDIS_MODES)
        .map(([name, mode]) => `${name} (${mode})`)
        .join(', or ')}`,
      found: `${chosen.length} of them set`,
    });
  for (const name of ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD'])
    if (plain[name] !== undefined && plain.REDIS_SENTINELS === undefined)
      problems.push({ variable: name, expected: 'REDIS_SENTINELS as well (it applies to Sentinel mode only)', found: 'it set alone' });
  if (plain.REDIS_URL !== undefined && (plain.REDIS_PASSWORD !== undefined || plain.REDIS_USERNAME !== undefined)) {
    const url = URL.canParse(plain.REDIS_URL) ? new URL(plain.REDIS_URL) : undefined;
    if (url?.password || url?.username)
      problems.push({
        variable: 'REDIS_URL',
        expected: 'credentials in REDIS_URL or in REDIS_USERNAME/REDIS_PASSWORD, not both',
        found: 'a URL with credentials',
      });
  }
  return problems;
}

function secretValues(env: Environment): string[] {
  const values: string[] = [];
  for (const v of envVarsOf(Environment)) {
    if (!v.sensitive) continue;
    const value: unknown = (env as unknown as Record<string, unknown>)[v.name];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string' && item.length > 0) values.push(item);
    }
  }
  // A Redis URL's password may be logged on its own (by ioredis errors, for instance).
  try {
    const password = decodeURIComponent(new URL(env.REDIS_URL).password);
    if (password) values.push(password);
  } catch {
    // validated above; an unparsable URL has no password to hide
  }
  // Longest first, so that a secret containing another is redacted whole.
  return [...new Set(values)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}
