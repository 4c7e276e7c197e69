import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envVarsOf } from '../../../src/config/env-var.decorator';
import { Environment } from '../../../src/config/environment';

const example = readFileSync(join(__dirname, '..', '..', '..', '.env.example'), 'utf8');
const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));

describe('.env.example', () => {
  it.each(envVarsOf(Environment).map((v) => v.name))('documents %s', (name) => {
    expect(documented.has(name)).toBe(true);
  });

  it('documents no variable the application does not read', () => {
    const known = new Set(envVarsOf(Environment).map((v) => v.name));
    expect([...documented].filter((name) => !known.has(name))).toEqual([]);
  });

  it('gives every variable a description in the code', () => {
    for (const v of envVarsOf(Environment)) expect(v.description.length).toBeGreaterThan(10);
  });
});

describe('README.md', () => {
  const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  it.each(envVarsOf(Environment).map((v) => v.name))('documents %s', (name) => {
    expect(readme).toContain(`\`${name}\``);
  });
});
