import Redis from 'ioredis';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp, TEST_API_TOKEN } from '../../support/app';
import { until } from '../../support/child';
import { json } from '../../support/http';
import { REDIS_URL, uniquePrefix } from '../../support/redis';
import { standardWebhookHeaders } from '../../../src/common/standard-webhooks';
import { rawRequest, closeRawRequests } from '../../support/routes';
import { TcpProxy } from '../../support/tcp-proxy';

const OTHER_TOKEN = 'other-token-0123456789abcdef';
const status = (base: string, token?: string, path = '/api/v1/status') =>
  fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('Flood guard', () => {
  afterAll(() => closeRawRequests());

  describe('on /api/v1, per bearer token', () => {
    let sut: RunningApp;
    beforeAll(async () => {
      sut = await startApp({ RSB_API_TOKENS: `${TEST_API_TOKEN},${OTHER_TOKEN}`, RSB_API_RATE_LIMIT_PER_MINUTE: '5', RSB_ROLE: 'api' });
    });
    afterAll(() => sut.close());

    it('answers 429 with Retry-After and the error body past the limit, and counts each token on its own', async () => {
      for (let i = 0; i < 5; i += 1) expect((await status(sut.url, TEST_API_TOKEN)).status).toBe(200);
      const refused = await status(sut.url, TEST_API_TOKEN);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.headers.get('x-request-id')).toBeTruthy();
      expect(await json(refused)).toEqual({
        error: { code: 'too_many_requests', message: expect.stringContaining('RSB_API_RATE_LIMIT_PER_MINUTE') },
      });
      expect((await status(sut.url, OTHER_TOKEN)).status).toBe(200);
    });

    it('counts by the matched route, whatever the spelling of the path', async () => {
      const encoded = await rawRequest(sut.url, 'GET', '/%61pi/v%31/status', { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
      expect(encoded.status).toBe(429);
    });

    it('counts made-up tokens against the caller address, not each as a fresh token', async () => {
      const answers: number[] = [];
      for (let i = 0; i < 7; i += 1) answers.push((await status(sut.url, `made-up-token-${i}-0123456789`)).status);
      expect(answers).toEqual([401, 401, 401, 401, 401, 429, 429]);
    });

    it('keeps no token in Redis, only its hash', async () => {
      const redis = new Redis(REDIS_URL);
      try {
        const keys = await redis.keys(`${sut.prefix}:rate-limit:*`);
        expect(keys.length).toBeGreaterThan(0);
        for (const key of keys) for (const token of [TEST_API_TOKEN, OTHER_TOKEN]) expect(key).not.toContain(token);
      } finally {
        redis.disconnect();
      }
    });

    it('does not limit the probes', async () => {
      for (let i = 0; i < 8; i += 1) expect((await fetch(`${sut.url}/healthz`)).status).toBe(200);
    });
  });

  describe('on the queue dashboard, per address', () => {
    let sut: RunningApp;
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`operator:${password}`).toString('base64')}` });
    beforeAll(async () => {
      sut = await startApp({
        RSB_ADMIN_USER: 'operator',
        RSB_ADMIN_PASSWORD: 'right-password-0123',
        RSB_API_RATE_LIMIT_PER_MINUTE: '5',
        RSB_ROLE: 'api',
      });
    });
    afterAll(() => sut.close());

    it('stops password guessing: past the allowance even the right password waits', async () => {
      expect((await fetch(`${sut.url}/admin/queues`, { headers: basic('right-password-0123') })).status).toBe(200);
      const guesses: number[] = [];
      for (let i = 0; i < 6; i += 1) guesses.push((await fetch(`${sut.url}/admin/queues`, { headers: basic(`guess-${i}`) })).status);
      expect(guesses).toEqual([401, 401, 401, 401, 429, 429]);
      expect((await fetch(`${sut.url}/admin/queues`, { headers: basic('right-password-0123') })).status).toBe(429);
    });
  });

  describe('on /webhooks, per source address, shared by every pod', () => {
    const prefix = uniquePrefix('flood');
    let a: RunningApp;
    let b: RunningApp;
    beforeAll(async () => {
      const env = {
        RSB_ROLE: 'api',
        RSB_REDIS_PREFIX: prefix,
        RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE: '4',
        GENERIC_WEBHOOK_SECRET: `whsec_${Buffer.from('generic-secret-0123456789').toString('base64')}`,
      };
      [a, b] = await Promise.all([startApp(env), startApp(env)]);
    });
    afterAll(async () => {
      await a.close();
      await b.close();
    });

    const hook = (app: RunningApp) =>
      fetch(`${app.url}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

    it('refuses the fifth request of the minute from one address, across two pods', async () => {
      const answers = [];
      for (const app of [a, b, a, b, a, b]) answers.push((await hook(app)).status);
      expect(answers).toEqual([401, 401, 401, 401, 429, 429]);
      const refused = await hook(a);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await json(refused)).error).toEqual({ code: 'too_many_requests', message: expect.stringContaining('per source address') });
    });
  });

  describe('on /webhooks, rejected requests apart from signed deliveries', () => {
    const secret = `whsec_${Buffer.from('generic-secret-0123456789').toString('base64')}`;
    let sut: RunningApp;
    beforeAll(async () => {
      sut = await startApp({ RSB_ROLE: 'api', RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE: '4', GENERIC_WEBHOOK_SECRET: secret });
    });
    afterAll(() => sut.close());

    const signed = (id: string) => {
      const body = JSON.stringify({ action: 'session.requested', ticket: { id: `T-${id}` } });
      return fetch(`${sut.url}/webhooks/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...standardWebhookHeaders(secret, `delivery-${id}`, body) },
        body,
      });
    };
    const forged = (i: number) =>
      fetch(`${sut.url}/webhooks/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': `x-${i}`, 'webhook-timestamp': '1', 'webhook-signature': 'v1,AAAA' },
        body: '{}',
      });

    it('an unsigned flood from the same address does not make a signed delivery get 429', async () => {
      const flood: number[] = [];
      for (let i = 0; i < 12; i += 1) flood.push(await (i % 3 === 0 ? forged(i) : hook(sut)).then((r) => r.status));
      expect(flood.slice(0, 4)).toEqual([401, 401, 401, 401]);
      expect(new Set(flood.slice(4))).toEqual(new Set([429]));
      // Not even a body that does not parse spends the signed allowance (counted by its answer).
      const unreadable = await fetch(`${sut.url}/webhooks/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{',
      });
      expect(unreadable.status).toBe(400);

      const accepted = await signed('1');
      expect(accepted.status).toBe(202);
      expect(await json(accepted)).toEqual({ jobId: expect.any(String) });
    });

    it('still holds signed deliveries to their own allowance', async () => {
      const answers: number[] = [];
      for (const id of ['2', '3', '4', '5']) answers.push((await signed(id)).status);
      expect(answers).toEqual([202, 202, 202, 429]);
      const refused = await signed('6');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await json(refused)).error).toEqual({ code: 'too_many_requests', message: expect.stringContaining('per source address') });
      // Once the signed allowance is spent, the address waits whatever it sends.
      expect((await hook(sut)).status).toBe(429);
    });

    const hook = (app: RunningApp) =>
      fetch(`${app.url}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  });

  describe('on /webhooks, each route apart', () => {
    const secret = `whsec_${Buffer.from('generic-secret-0123456789').toString('base64')}`;
    let zendesk: FakeZendesk;
    let sut: RunningApp;
    beforeAll(async () => {
      zendesk = await new FakeZendesk().start();
      sut = await startApp({
        RSB_ROLE: 'api',
        RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE: '2',
        GENERIC_WEBHOOK_SECRET: secret,
        ZENDESK_BASE_URL: zendesk.url,
        ZENDESK_EMAIL: zendesk.email,
        ZENDESK_API_TOKEN: zendesk.apiToken,
        ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
      });
    });
    afterAll(async () => {
      await sut.close();
      await zendesk.stop();
    });

    it("a busy sender on one route (the appliance's events, say) does not spend another route's allowance from the same address", async () => {
      const generic = (id: string) => {
        const body = JSON.stringify({ action: 'session.requested', ticket: { id: `G-${id}` } });
        return fetch(`${sut.url}/webhooks/generic`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...standardWebhookHeaders(secret, `route-${id}`, body) },
          body,
        });
      };
      const answers: number[] = [];
      for (const id of ['1', '2', '3']) answers.push((await generic(id)).status);
      expect(answers).toEqual([202, 202, 429]);
      const res = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, { action: 'session.requested', ticket: { id: '77' } });
      expect(res.status).toBe(202);
    });
  });

  describe('when Redis is away', () => {
    let proxy: TcpProxy;
    let zendesk: FakeZendesk;
    let sut: RunningApp;
    beforeAll(async () => {
      const target = new URL(REDIS_URL);
      proxy = await new TcpProxy(target.hostname, Number(target.port || 6379)).start();
      zendesk = await new FakeZendesk().start();
      sut = await startApp({
        REDIS_URL: proxy.url,
        RSB_ROLE: 'api',
        RSB_API_RATE_LIMIT_PER_MINUTE: '2',
        RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE: '2',
        ZENDESK_BASE_URL: zendesk.url,
        ZENDESK_EMAIL: zendesk.email,
        ZENDESK_API_TOKEN: zendesk.apiToken,
        ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
      });
    });
    afterAll(async () => {
      await proxy.restore().catch(() => undefined);
      // Closing while the queue connections are still reconnecting makes BullMQ's quit fail.
      await until(async () => (await fetch(`${sut.url}/readyz`)).status === 200, 15_000, 'Redis back');
      await sut.close();
      await proxy.stop();
      await zendesk.stop();
    });

    it('lets requests through (fails open): a webhook gets 503 from its own Redis write, never 500 or 429', async () => {
      await proxy.cut();
      const body = { action: 'session.requested', ticket: { id: '42' } };
      for (let i = 0; i < 4; i += 1) {
        const res = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, body);
        expect(res.status).toBe(503);
        expect((await json(res)).error.code).toBe('queue_unavailable');
      }
      for (let i = 0; i < 4; i += 1) expect((await status(sut.url, TEST_API_TOKEN)).status).toBe(200);
    });
  });
});
