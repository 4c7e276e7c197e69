import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp } from '../support/app';
import { json } from '../support/http';
import { REDIS_URL } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';
import { until } from '../support/child';
import { applianceEnv, zendeskEnv } from '../support/fake-env';

const GENERIC_SECRET = `whsec_${Buffer.from('overload-generic-secret-0123456789').toString('base64')}`;
const EVENTS_TOKEN = 'bt-events-token-0123456789';

/**
 * Every webhook answers an overloaded moment (Redis unavailable, nothing stored) with 503 and Retry-After:
 * Zendesk retries a 503 only when it carries Retry-After (under a minute); other senders may use it too.
 */
describe('webhooks while Redis is unavailable', () => {
  let proxy: TcpProxy;
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;

  beforeAll(async () => {
    const target = new URL(REDIS_URL);
    proxy = await new TcpProxy(target.hostname, Number(target.port || 6379)).start();
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    sut = await startApp({
      REDIS_URL: proxy.url,
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
      BT_EVENTS_TOKEN: EVENTS_TOKEN,
      BT_POLL_INTERVAL_SECONDS: '0',
      GENERIC_WEBHOOK_SECRET: GENERIC_SECRET,
    });
    // Redis goes away from a running bridge: first let every queue connection come up.
    await until(async () => (await fetch(`${sut.url}/readyz`)).ok, 15_000, 'ready');
    await proxy.cut();
  });
  afterAll(async () => {
    await proxy.restore().catch(() => undefined);
    // Close once the queues have their connections back: BullMQ's close sends QUIT on them.
    await until(async () => (await fetch(`${sut.url}/readyz`)).ok, 15_000, 'Redis back').catch(() => undefined);
    await sut.close();
    await proxy.stop();
    await Promise.all([appliance.stop(), zendesk.stop()]);
  });

  const generic = () => {
    const raw = JSON.stringify({ action: 'session.requested', ticket: { id: 'T-1' } });
    const id = randomUUID();
    const at = new Date();
    return fetch(`${sut.url}/webhooks/generic`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(GENERIC_SECRET).sign(id, at, raw),
      },
      body: raw,
    });
  };

  it.each([
    ['zendesk', () => zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, { action: 'session.requested', ticket: { id: '42' } })],
    ['generic', generic],
    [
      'beyondtrust',
      () =>
        fetch(`${sut.url}/webhooks/beyondtrust?token=${EVENTS_TOKEN}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ event: 'support_conference_end', version: '3', timestamp: '1', lsid: 'abc123' }).toString(),
        }),
    ],
  ])('/webhooks/%s answers 503 with a Retry-After under a minute', async (_name, send) => {
    const res = await send();
    expect(res.status).toBe(503);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThan(60);
    expect((await json(res)).error.code).toBe('queue_unavailable');
  });
});
