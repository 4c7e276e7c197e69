import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/config.error';
import { envVarsOf } from '../../../src/config/env-var.decorator';
import { Environment } from '../../../src/config/environment';
import { loadConfig } from '../../../src/config/load-config';

const example = readFileSync(join(__dirname, '..', '..', '..', '.env.example'), 'utf8');
const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
/** The value each variable is shown with, set or commented out. */
const shown = new Map([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2].trim()]));

/** Every feature on, with a valid value for every secret: a shown value is judged where it would be used. */
const EVERYTHING_ON: Record<string, string> = {
  BT_SITE_URL: 'https://support.example.com',
  BT_CLIENT_ID: 'client',
  BT_CLIENT_SECRET: 'bt-client-secret-0123456789',
  BT_EVENTS_TOKEN: 'events-token-0123456789',
  BT_EVENTS_TOKEN_PREVIOUS: 'events-token-previous-0123456789',
  RSB_API_TOKENS: 'api-token-0123456789abcdef',
  RSB_ADMIN_USER: 'ops',
  RSB_ADMIN_PASSWORD: 'ops-password-0123456789',
  RSB_CALLBACK_SECRET: `whsec_${Buffer.from('callback-secret-0123456789').toString('base64')}`,
  RSB_CALLBACK_SECRET_PREVIOUS: `whsec_${Buffer.from('callback-secret-previous-0123456789').toString('base64')}`,
  UPSCOPE_BASE_URL: 'https://cobrowse.example.com',
  UPSCOPE_REST_KEY: 'upscope-rest-key-0123456789',
  UPSCOPE_LICENSE_TOKEN: 'upscope-license-0123456789',
  ZENDESK_BASE_URL: 'https://example.zendesk.com',
  ZENDESK_EMAIL: 'agent@example.com',
  ZENDESK_API_TOKEN: 'zendesk-api-token-0123456789',
  ZENDESK_OAUTH_TOKEN: 'zendesk-oauth-token-0123456789',
  ZENDESK_WEBHOOK_SECRET: 'zendesk-webhook-secret-0123456789',
  ZENDESK_WEBHOOK_SECRET_PREVIOUS: 'zendesk-webhook-previous-0123456789',
  JIRA_BASE_URL: 'https://example.atlassian.net',
  JIRA_EMAIL: 'agent@example.com',
  JIRA_API_TOKEN: 'jira-api-token-0123456789',
  JIRA_OAUTH_TOKEN: 'jira-oauth-token-0123456789',
  JIRA_WEBHOOK_SECRET: 'jira-webhook-secret-0123456789',
  JIRA_WEBHOOK_SECRET_PREVIOUS: 'jira-webhook-previous-0123456789',
  SERVICENOW_INSTANCE_URL: 'https://example.service-now.com',
  SERVICENOW_USERNAME: 'integration',
  SERVICENOW_PASSWORD: 'servicenow-password-0123456789',
  SERVICENOW_CLIENT_ID: 'client',
  SERVICENOW_CLIENT_SECRET: 'servicenow-client-secret-0123456789',
  SERVICENOW_WEBHOOK_SECRET: 'servicenow-webhook-secret-0123456789',
  SERVICENOW_WEBHOOK_SECRET_PREVIOUS: 'servicenow-webhook-previous-0123456789',
  GENERIC_WEBHOOK_SECRET: `whsec_${Buffer.from('generic-webhook-secret-0123456789').toString('base64')}`,
  GENERIC_WEBHOOK_SECRET_PREVIOUS: `whsec_${Buffer.from('generic-webhook-previous-0123456789').toString('base64')}`,
  REDIS_SENTINELS: 'sentinel-0:26379',
  REDIS_SENTINEL_PASSWORD: 'sentinel-password-0123456789',
  REDIS_PASSWORD: 'redis-password-0123456789',
};

describe('.env.example', () => {
  it.each(envVarsOf(Environment).map((v) => v.name))('documents %s', (name) => {
    expect(documented.has(name)).toBe(true);
  });

  it('documents no variable the application does not read', () => {
    const known = new Set(envVarsOf(Environment).map((v) => v.name));
    expect([...documented].filter((name) => !known.has(name))).toEqual([]);
  });

  const sensitive = envVarsOf(Environment).filter((v) => v.sensitive && v.name !== 'REDIS_URL');
  it.each(sensitive.map((v) => v.name))('ships no value for %s that would pass as a real secret', (name) => {
    expect(EVERYTHING_ON[name]).toBeDefined();
    expect(() => loadConfig(EVERYTHING_ON)).not.toThrow();
    const value = shown.get(name) ?? '';
    if (value === '') return; // unset: the feature stays off, or the boot stops asking for it
    let refused: ConfigError | undefined;
    try {
      loadConfig({ ...EVERYTHING_ON, [name]: value });
    } catch (error) {
      refused = error as ConfigError;
    }
    expect(refused?.problems.map((p) => p.variable)).toContain(name);
  });

  it('ships a REDIS_URL without a password', () => {
    expect(new URL(shown.get('REDIS_URL') ?? '').password).toBe('');
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
