import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/config.error';
import { loadConfig } from '../../../src/config/load-config';

const problemsOf = (env: NodeJS.ProcessEnv): ConfigError => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('applies the documented defaults when nothing is set', () => {
    const { env } = loadConfig({});
    expect(env).toMatchObject({
      PORT: 3000,
      RSB_ROLE: 'all',
      REDIS_URL: 'redis://127.0.0.1:6379',
      RSB_REDIS_PREFIX: 'rsb',
      LOG_LEVEL: 'info',
      RSB_API_TOKENS: [],
      RSB_SHUTDOWN_TIMEOUT_MS: 30000,
    });
    expect(env.RSB_RULES_FILE).toBeUndefined();
  });

  it('converts numbers and comma-separated lists', () => {
    const { env } = loadConfig({ PORT: '8080', RSB_API_TOKENS: ' first-token-0123456789 , second-token-0123456789,', RSB_ROLE: 'worker' });
    expect(env.PORT).toBe(8080);
    expect(env.RSB_ROLE).toBe('worker');
    expect(env.RSB_API_TOKENS).toEqual(['first-token-0123456789', 'second-token-0123456789']);
  });

  it('treats an empty variable as unset, as .env files write it', () => {
    expect(loadConfig({ PORT: '', RSB_RULES_FILE: '' }).env).toMatchObject({ PORT: 3000, RSB_RULES_FILE: undefined });
  });

  it('lists every invalid variable in one error, with what was expected and what was found', () => {
    const error = problemsOf({ PORT: 'abc', RSB_ROLE: 'foo', LOG_LEVEL: 'loud' });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['LOG_LEVEL', 'PORT', 'RSB_ROLE']);
    expect(error.message).toContain('PORT: expected an integer from 1 to 65535; found "abc"');
    expect(error.message).toContain('RSB_ROLE: expected one of api, worker, all; found "foo"');
  });

  it('rejects out-of-range numbers and malformed URLs and prefixes', () => {
    const error = problemsOf({ PORT: '70000', REDIS_URL: 'http://x', RSB_REDIS_PREFIX: 'has space', RSB_SHUTDOWN_TIMEOUT_MS: '-1' });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['PORT', 'REDIS_URL', 'RSB_REDIS_PREFIX', 'RSB_SHUTDOWN_TIMEOUT_MS']);
  });

  it('takes Standard Webhooks secrets in the whsec_ form only, and says how to make one', () => {
    const good = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(loadConfig({ GENERIC_WEBHOOK_SECRET: good, RSB_CALLBACK_SECRET: good }).env.GENERIC_WEBHOOK_SECRET).toBe(good);
    const error = problemsOf({
      // A plain string: the official library would base64-decode it, a text-minded receiver would not.
      GENERIC_WEBHOOK_SECRET: 'a-plain-passphrase-of-decent-length',
      // Not base64 after the prefix.
      RSB_CALLBACK_SECRET: 'whsec_not base64 at all!',
    });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['GENERIC_WEBHOOK_SECRET', 'RSB_CALLBACK_SECRET']);
    expect(error.message).toContain('GENERIC_WEBHOOK_SECRET: expected a Standard Webhooks secret: whsec_ followed by base64');
    expect(error.message).toContain('whsec_$(openssl rand -base64 32)');
    expect(error.message).toContain('RSB_CALLBACK_SECRET: expected standard base64 after whsec_');
    expect(error.message).not.toContain('passphrase');
    const short = problemsOf({ RSB_CALLBACK_SECRET: `whsec_${Buffer.alloc(16, 1).toString('base64')}` });
    expect(short.message).toContain('a key of 24 to 64 bytes after whsec_, not 16');
  });

  it('takes callback hosts, domain wildcards and addresses, but no wildcard over a whole top-level domain', () => {
    const hosts = 'bot.example.com,*.example.com,*.corp.example.org,10.0.0.7,::1,localhost';
    expect(loadConfig({ RSB_CALLBACK_ALLOWED_HOSTS: hosts }).env.RSB_CALLBACK_ALLOWED_HOSTS).toEqual(hosts.split(','));
    for (const bad of ['*.com', '*', '*.', 'bot.example.com/path', 'https://bot.example.com']) {
      const error = problemsOf({ RSB_CALLBACK_ALLOWED_HOSTS: `bot.example.com,${bad}` });
      expect(error.problems.map((p) => p.variable)).toEqual(['RSB_CALLBACK_ALLOWED_HOSTS']);
      expect(error.message).toContain('at least two labels after *.');
    }
  });

  it('never shows the value of a sensitive variable in the error', () => {
    const secret = 'short secret';
    const error = problemsOf({ RSB_API_TOKENS: secret, REDIS_URL: 'mysql://user:hunter2-password@db' });
    expect(error.message).not.toContain('short');
    expect(error.message).not.toContain('hunter2-password');
    expect(error.message).toContain(
      'RSB_API_TOKENS: expected tokens of at least 16 characters without spaces; found a hidden value of 12 characters',
    );
  });

  it('collects the secrets to redact, including the password inside REDIS_URL', () => {
    const { secrets } = loadConfig({
      RSB_API_TOKENS: 'token-one-0123456789,token-two-0123456789',
      REDIS_URL: 'redis://:p%40ssw0rd-long@redis:6379/2',
    });
    expect(secrets).toEqual(
      expect.arrayContaining(['token-one-0123456789', 'token-two-0123456789', 'p@ssw0rd-long', 'redis://:p%40ssw0rd-long@redis:6379/2']),
    );
  });

  describe('BeyondTrust variables', () => {
    it('are optional together: no BT_SITE_URL, no BeyondTrust', () => {
      expect(loadConfig({}).env).toMatchObject({
        BT_SITE_URL: undefined,
        BT_RATE_LIMIT_PER_SECOND: 20,
        BT_RATE_LIMIT_PER_HOUR: 15000,
        BT_TIMEOUT_MS: 30000,
      });
    });

    it('require the client ID and secret once BT_SITE_URL is set, without showing the secret', () => {
      const error = problemsOf({ BT_SITE_URL: 'https://support.example.com' });
      expect(error.problems.map((p) => p.variable).sort()).toEqual(['BT_CLIENT_ID', 'BT_CLIENT_SECRET']);
      expect(error.message).toContain(
        'BT_CLIENT_SECRET: expected the API account client secret (required when BT_SITE_URL is set); found nothing (not set)',
      );
    });

    it('refuse a site URL without a scheme and limits outside their ranges', () => {
      const error = problemsOf({
        BT_SITE_URL: 'support.example.com',
        BT_CLIENT_ID: 'id',
        BT_CLIENT_SECRET: 's',
        BT_RATE_LIMIT_PER_SECOND: '0',
        BT_TIMEOUT_MS: '5',
      });
      expect(error.problems.map((p) => p.variable).sort()).toEqual(['BT_RATE_LIMIT_PER_SECOND', 'BT_SITE_URL', 'BT_TIMEOUT_MS']);
      expect(error.message).toContain('BT_TIMEOUT_MS: expected an integer from 100 to 600000 (milliseconds); found "5"');
    });

    it('count the client secret among the secrets to redact', () => {
      expect(
        loadConfig({ BT_SITE_URL: 'https://s.example.com', BT_CLIENT_ID: 'id', BT_CLIENT_SECRET: 'bt-secret-value' }).secrets,
      ).toContain('bt-secret-value');
    });
  });

  describe('RSB_RULES_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rsb-rules-'));

    it('loads a rules file over the defaults', () => {
      const path = join(dir, 'ok.yaml');
      writeFileSync(
        path,
        [
          'routing:',
          '  default: team:1',
          '  rules:',
          '    - match: { system: zendesk, priorities: [urgent], tags: [vip] }',
          '      queue: team:2',
          '      priority: 1',
          'fields:',
          '  ticket_id: "{{ ticket.id }}"',
          'sessionKey:',
          '  externalKey: "ZD-{{ ticket.number }}"',
          '  ttl: 3600',
        ].join('\n'),
      );
      const { rules } = loadConfig({ RSB_RULES_FILE: path });
      expect(rules.routing.default).toBe('team:1');
      expect(rules.routing.rules[0]).toMatchObject({
        match: { system: 'zendesk', priorities: ['urgent'], tags: ['vip'] },
        queue: 'team:2',
        priority: 1,
      });
      expect(rules.fields).toEqual({ ticket_id: '{{ ticket.id }}' });
      expect(rules.sessionKey).toMatchObject({ externalKey: 'ZD-{{ ticket.number }}', ttl: 3600 });
      // Sections not given keep their defaults.
      expect(rules.writeBack.publicReply).toContain('{{ key.url }}');
      expect(rules.triggers.zendeskTags).toEqual({ remote_support: 'session.requested' });
    });

    it('names every problem in the rules: bad queue, unknown section, broken Liquid, unknown action', () => {
      const path = join(dir, 'bad-rules.yaml');
      writeFileSync(
        path,
        [
          'routing:',
          '  default: somewhere',
          '  rules:',
          '    - match: { system: freshdesk }',
          '      queue: team:x',
          'routng: {}',
          'writeBack:',
          '  publicReply: "{% if %}"',
          'triggers:',
          '  zendeskTags: { remote: session.exploded }',
        ].join('\n'),
      );
      const error = problemsOf({ RSB_RULES_FILE: path });
      const variables = error.problems.map((p) => p.variable);
      expect(variables).toEqual(
        expect.arrayContaining([
          'RSB_RULES_FILE (routing.default)',
          'RSB_RULES_FILE (routing.rules.0.match.system)',
          'RSB_RULES_FILE (routing.rules.0.queue)',
          'RSB_RULES_FILE (routng)',
          'RSB_RULES_FILE (writeBack.publicReply)',
          'RSB_RULES_FILE (triggers.zendeskTags.remote)',
        ]),
      );
      expect(error.message).toContain('RSB_RULES_FILE (routing.default): expected a queue: general, team:<id>');
      expect(error.message).toMatch(/writeBack.publicReply\): expected valid Liquid/);
    });

    it('stops the boot when the file is missing, with the other problems', () => {
      const error = problemsOf({ RSB_RULES_FILE: join(dir, 'missing.yaml'), PORT: 'x' });
      expect(error.problems.map((p) => p.variable).sort()).toEqual(['PORT', 'RSB_RULES_FILE']);
      expect(error.message).toMatch(/RSB_RULES_FILE: expected a readable YAML file; found .*missing\.yaml \(ENOENT\)/);
    });

    it('stops the boot on invalid YAML or a top level that is not a mapping', () => {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'routing: [unclosed\n');
      expect(problemsOf({ RSB_RULES_FILE: bad }).message).toContain('expected valid YAML');
      const list = join(dir, 'list.yaml');
      writeFileSync(list, '- a\n- b\n');
      expect(problemsOf({ RSB_RULES_FILE: list }).message).toContain('holds a list');
    });
  });
});

describe('loadConfig: the Redis mode', () => {
  it('is a single Redis at REDIS_URL (or its default) when no other mode is set', () => {
    expect(loadConfig({}).env).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:6379', RSB_REDIS_PREFIX: 'rsb', REDIS_TLS: false });
    expect(loadConfig({ REDIS_URL: 'redis://cache:6380', REDIS_TLS: 'true' }).env).toMatchObject({ REDIS_TLS: true });
  });

  it('reads Sentinel: the sentinels, the master name (mymaster unless set) and their password', () => {
    const { env, secrets } = loadConfig({
      REDIS_SENTINELS: 's1:26379, s2:26379,[::1]:26379',
      REDIS_SENTINEL_PASSWORD: 'sentinel-password',
    });
    expect(env).toMatchObject({ REDIS_SENTINELS: ['s1:26379', 's2:26379', '[::1]:26379'], REDIS_SENTINEL_MASTER: 'mymaster' });
    expect(secrets).toContain('sentinel-password');
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'main' }).env.REDIS_SENTINEL_MASTER).toBe('main');
  });

  it('reads Cluster and puts the key prefix in a hash tag, keeping one the operator wrote', () => {
    const { env, secrets } = loadConfig({
      REDIS_CLUSTER_NODES: 'n1:7000,n2:7001',
      REDIS_PASSWORD: 'cluster-password',
      REDIS_USERNAME: 'rsb',
    });
    expect(env).toMatchObject({ REDIS_CLUSTER_NODES: ['n1:7000', 'n2:7001'], RSB_REDIS_PREFIX: '{rsb}', REDIS_USERNAME: 'rsb' });
    expect(secrets).toContain('cluster-password');
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'n1:7000', RSB_REDIS_PREFIX: 'prod:{bridge}' }).env.RSB_REDIS_PREFIX).toBe('prod:{bridge}');
  });

  it('refuses two modes at once, naming them', () => {
    const error = problemsOf({ REDIS_URL: 'redis://cache:6379', REDIS_CLUSTER_NODES: 'n1:7000' });
    expect(error.problems).toEqual([expect.objectContaining({ variable: 'REDIS_URL, REDIS_CLUSTER_NODES' })]);
    expect(error.message).toContain(
      'exactly one Redis mode: REDIS_URL (a single Redis), or REDIS_SENTINELS (Sentinel), or REDIS_CLUSTER_NODES (Cluster)',
    );
    expect(problemsOf({ REDIS_SENTINELS: 's1:26379', REDIS_CLUSTER_NODES: 'n1:7000' }).problems[0].variable).toBe(
      'REDIS_SENTINELS, REDIS_CLUSTER_NODES',
    );
  });

  it('refuses Sentinel settings without sentinels, and credentials given twice', () => {
    expect(problemsOf({ REDIS_SENTINEL_MASTER: 'main' }).message).toContain('REDIS_SENTINEL_MASTER: expected REDIS_SENTINELS as well');
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'n1:7000', REDIS_SENTINEL_PASSWORD: 'x-password' }).problems[0].variable).toBe(
      'REDIS_SENTINEL_PASSWORD',
    );
    const twice = problemsOf({ REDIS_URL: 'redis://:url-password@cache:6379', REDIS_PASSWORD: 'env-password' });
    expect(twice.message).toContain('REDIS_URL: expected credentials in REDIS_URL or in REDIS_USERNAME/REDIS_PASSWORD, not both');
    expect(twice.message).not.toContain('url-password');
  });

  it('refuses node lists that are not host:port and a TLS flag that is not a boolean', () => {
    const error = problemsOf({ REDIS_CLUSTER_NODES: 'n1:7000,n2', REDIS_TLS: 'maybe' });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['REDIS_CLUSTER_NODES', 'REDIS_TLS']);
    expect(error.message).toContain('REDIS_CLUSTER_NODES: expected comma-separated host:port');
  });
});
