#!/usr/bin/env node
/**
 * The npm registry mirror these machines reach serves only the Linux builds of msgpackr-extract (an
 * optional native speed-up of msgpackr, which BullMQ uses). npm then writes no lockfile entry for the
 * other platforms, and `npm ci` refuses the lockfile ("Missing: ... from lock file"). This adds those
 * entries back, as npm itself would, without integrity: they are never installed on Linux.
 * Run after `npm install` changes package-lock.json: `node scripts/fix-lockfile.js`.
 */
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const match = /-(darwin|linux|win32|freebsd|android|sunos|aix|openbsd)-(x64|arm64|arm|ia32|ppc64|s390x|riscv64)$/.exec(dep);
    if (!match) continue;
    const base = key === '' ? 'node_modules/' : `${key}/node_modules/`;
    const nested = `${base}${dep}`;
    const hoisted = `node_modules/${dep}`;
    if (packages[nested] || packages[hoisted]) continue;
    packages[hoisted] = { version, cpu: [match[2]], optional: true, os: [match[1]] };
    added += 1;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`package-lock.json: added ${added} platform-specific optional entr${added === 1 ? 'y' : 'ies'}`);
