/**
 * `npm run sandbox`: rs-bridge on this machine in the `all` role, against the local Redis, with
 * settings that need no editing. Anything set in the environment wins over these defaults.
 */
import { run } from '../src/bootstrap';

const SANDBOX_TOKEN = 'sandbox-token-not-for-production';

const defaults: Record<string, string> = {
  PORT: '3000',
  HOST: '127.0.0.1',
  RSB_ROLE: 'all',
  RSB_REDIS_PREFIX: 'rsb-sandbox',
  RSB_API_TOKENS: SANDBOX_TOKEN,
};
for (const [name, value] of Object.entries(defaults)) if (!process.env[name]) process.env[name] = value;

const base = `http://${process.env.HOST}:${process.env.PORT}`;
process.stderr.write(
  [
    '',
    'rs-bridge sandbox',
    `  health:     curl ${base}/healthz   and   curl ${base}/readyz`,
    `  API:        curl -H 'Authorization: Bearer ${process.env.RSB_API_TOKENS === SANDBOX_TOKEN ? SANDBOX_TOKEN : '<your token>'}' ${base}/api/v1/status`,
    '  stop:       Ctrl+C',
    '',
  ].join('\n') + '\n',
);

run();
