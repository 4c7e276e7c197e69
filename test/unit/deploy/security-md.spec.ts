import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const security = readFileSync(join(root, 'SECURITY.md'), 'utf8');

describe('SECURITY.md', () => {
  const cited = [...new Set([...security.matchAll(/`(test\/[\w./-]+\.ts)`/g)].map((m) => m[1]))];

  it('cites tests for its claims', () => {
    expect(cited.length).toBeGreaterThan(10);
  });

  it.each(cited)('cites %s, which exists', (path) => {
    expect(existsSync(join(root, path))).toBe(true);
  });
});
