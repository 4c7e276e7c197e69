// Lints the OpenAPI document given as a file path with Redocly's recommended rules and prints the
// problems as JSON. A separate process because @redocly/openapi-core is an ES module, which jest's
// CommonJS module loader cannot import.
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const config = await createConfig({ extends: ['recommended'] });
const problems = await lintFromString({ source: readFileSync(file, 'utf8'), absoluteRef: file, config });
process.stdout.write(
  JSON.stringify(
    problems.map((p) => ({ rule: p.ruleId, severity: p.severity, message: p.message, where: p.location.map((l) => l.pointer).join(' ') })),
  ),
);
