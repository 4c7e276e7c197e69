import { RunningApp, startApp } from '../../support/app';
import { json } from '../../support/http';

const EVENTS_TOKEN = 'bt-events-token-0123456789';
const APPLIANCE = '10.9.8.7';

/** An outbound event from this test process (127.0.0.1), claiming through X-Forwarded-For to come from the appliance. */
const claimAppliance = (sut: RunningApp, forwardedFor = APPLIANCE) =>
  fetch(`${sut.url}/webhooks/beyondtrust`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor, 'x-rsb-events-token': EVENTS_TOKEN },
    body: new URLSearchParams({ event: 'support_conference_frobnicated', lsid: 'abc' }).toString(),
  });

describe('Who the client is (RSB_TRUST_PROXY)', () => {
  const boot = (trustProxy?: string) =>
    startApp({
      RSB_ROLE: 'api',
      BT_EVENTS_TOKEN: EVENTS_TOKEN,
      BT_EVENTS_ALLOWED_IPS: `${APPLIANCE},10.9.0.0/16`,
      ...(trustProxy ? { RSB_TRUST_PROXY: trustProxy } : {}),
    });

  it('by default ignores X-Forwarded-For: a caller reaching the pod directly cannot pose as the appliance', async () => {
    const sut = await boot();
    try {
      const res = await claimAppliance(sut);
      expect(res.status).toBe(403);
      expect((await json(res)).error.message).toContain('127.0.0.1');
    } finally {
      await sut.close();
    }
  });

  it.each([['127.0.0.1/32'], ['loopback'], ['1']])('honours X-Forwarded-For from a trusted proxy (RSB_TRUST_PROXY=%s)', async (trust) => {
    const sut = await boot(trust);
    try {
      expect((await claimAppliance(sut)).status).toBe(200);
      // The proxy's own view counts, not what the caller wrote in front of it.
      expect((await claimAppliance(sut, `${APPLIANCE}, 203.0.113.66`)).status).toBe(403);
    } finally {
      await sut.close();
    }
  });

  it('ignores X-Forwarded-For from a peer that is not among the trusted proxies', async () => {
    const sut = await boot('10.0.0.0/8');
    try {
      expect((await claimAppliance(sut)).status).toBe(403);
    } finally {
      await sut.close();
    }
  });
});
