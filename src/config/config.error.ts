export interface ConfigProblem {
  variable: string;
  expected: string;
  found: string;
}

/** Thrown at boot: lists every problem at once so an operator fixes them in one pass. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: expected ${p.expected}; found ${p.found}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}
