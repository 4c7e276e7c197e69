import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEMO_PORTS } from '../../../scripts/compose-demo-fakes';
import { envVarsOf } from '../../../src/config/env-var.decorator';
import { Environment } from '../../../src/config/environment';
import { loadConfig } from '../../../src/config/load-config';
import { FakeUpscope } from '../../fakes/upscope/fake-upscope';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';

const ROOT = join(__dirname, '..', '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string>;
  env_file?: { path: string; required?: boolean }[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
  stop_grace_period?: string;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const { services } = compose;
const demoEnv = Object.fromEntries(
  readFileSync(join(ROOT, 'compose.demo.env'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const known = new Set(envVarsOf(Environment).map((v) => v.name));

describe('docker-compose.yml', () => {
  it('runs api, worker and Redis, and adds the fakes only in the demo profile', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'fakes', 'redis', 'worker']);
    for (const name of ['api', 'worker', 'redis']) expect(services[name].profiles).toBeUndefined();
    expect(services.fakes.profiles).toEqual(['demo']);
  });

  it('runs Redis with AOF persistence and noeviction, on a volume', () => {
    const command = services.redis.command!.join(' ');
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(services.redis.volumes).toEqual([expect.stringMatching(/^[\w-]+:\/data$/)]);
  });

  it.each(['api', 'worker'])('%s: one image, its role, Redis by service name, config from the env file, waits for Redis', (role) => {
    const service = services[role];
    expect(service).toMatchObject({ image: 'rs-bridge:local', build: '.' });
    expect(service.environment).toMatchObject({ RSB_ROLE: role, REDIS_URL: 'redis://redis:6379', HOST: '0.0.0.0' });
    expect(service.env_file).toEqual([{ path: '${RSB_ENV_FILE:-.env}', required: false }]);
    expect(service.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(Object.keys(service.environment!).filter((name) => !known.has(name))).toEqual([]);
    // Longer than the drain plus the jobs' shutdown timeout, as the Helm chart's grace period.
    const config = loadConfig({ ...service.environment });
    expect(parseInt(service.stop_grace_period!, 10) * 1000).toBeGreaterThan(
      config.env.RSB_DRAIN_SECONDS * 1000 + config.env.RSB_SHUTDOWN_TIMEOUT_MS,
    );
  });

  it('gives every service a health check; the roles probe their own port', () => {
    for (const [name, service] of Object.entries(services)) expect([name, service.healthcheck?.test[0]]).toEqual([name, 'CMD']);
    expect(services.api.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${services.api.environment!.PORT}/readyz`);
    expect(services.worker.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${services.worker.environment!.PORT}/healthz`);
    expect(services.redis.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(services.api.ports).toEqual([`3000:${services.api.environment!.PORT}`]);
  });

  it('the demo env file is a valid configuration that points at the fakes with their credentials', () => {
    expect(Object.keys(demoEnv).filter((name) => !known.has(name))).toEqual([]);
    const config = loadConfig({ ...demoEnv, ...services.api.environment });
    expect(config.env.BT_SITE_URL).toBe(`http://fakes:${DEMO_PORTS.appliance}`);
    expect(config.env.ZENDESK_BASE_URL).toBe(`http://fakes:${DEMO_PORTS.zendesk}`);
    const zendesk = new FakeZendesk();
    expect(demoEnv).toMatchObject({
      ZENDESK_EMAIL: zendesk.email,
      ZENDESK_API_TOKEN: zendesk.apiToken,
      ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
    });
    const upscope = new FakeUpscope();
    expect(demoEnv).toMatchObject({
      UPSCOPE_BASE_URL: `http://fakes:${DEMO_PORTS.upscope}${upscope.base}`,
      UPSCOPE_REST_KEY: upscope.restKey,
      UPSCOPE_LICENSE_TOKEN: upscope.licenseToken,
    });
    expect(services.fakes.command!.join(' ')).toContain('scripts/compose-demo-fakes.ts');
    expect(services.fakes.env_file).toEqual([{ path: 'compose.demo.env' }]);
  });
});
