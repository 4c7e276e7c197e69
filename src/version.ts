import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Read at run time so the version is the package's, in `src/` under ts-node and in `dist/` alike.
export const VERSION: string = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
