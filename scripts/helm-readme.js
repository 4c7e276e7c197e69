#!/usr/bin/env node
/**
 * Regenerates the parameters table of helm/rs-bridge/README.md from the `## @param` lines of
 * values.yaml (Bitnami's convention), between the PARAMETERS markers. `node scripts/helm-readme.js`.
 */
const fs = require('node:fs');
const path = require('node:path');
const { parse } = require('yaml');

const chart = path.join(__dirname, '..', 'helm', 'rs-bridge');
const valuesText = fs.readFileSync(path.join(chart, 'values.yaml'), 'utf8');
const values = parse(valuesText);
const at = (p) => p.split('.').reduce((o, k) => (o == null ? undefined : o[k]), values);

const rows = [];
for (const line of valuesText.split('\n')) {
  const section = /^## @section (.+)$/.exec(line);
  if (section) rows.push(`\n### ${section[1]}\n\n| Name | Description | Default |\n| --- | --- | --- |`);
  const param = /^\s*## @param (\S+) (.+)$/.exec(line);
  if (param) rows.push(`| \`${param[1]}\` | ${param[2].replace(/\|/g, '\\|')} | \`${JSON.stringify(at(param[1]) ?? null)}\` |`);
}
const readmePath = path.join(chart, 'README.md');
const readme = fs.readFileSync(readmePath, 'utf8');
const start = '<!-- PARAMETERS:START -->';
const end = '<!-- PARAMETERS:END -->';
const next = `${readme.slice(0, readme.indexOf(start) + start.length)}\n${rows.join('\n')}\n\n${readme.slice(readme.indexOf(end))}`;
fs.writeFileSync(readmePath, next);
console.log(`helm/rs-bridge/README.md: ${rows.filter((r) => r.startsWith('| `')).length} parameters`);
