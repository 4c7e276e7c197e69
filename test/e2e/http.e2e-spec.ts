import { json } from '../support/http';
import { RunningApp, startApp, TEST_API_TOKEN } from '../support/app';

describe('HTTP surface', () => {
  let sut: RunningApp;

  beforeAll(async () => {
    sut = await startApp({ RSB_API_TOKENS: `other-token-0123456789,${TEST_API_TOKEN}` });
  });
  afterAll(() => sut.close());

  it('answers liveness', async () => {
    const res = await fetch(`${sut.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ok' });
  });

  it('answers readiness with each check when Redis answers', async () => {
    const res = await fetch(`${sut.url}/readyz`);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.status).toBe('ok');
    expect(body.details).toMatchObject({ redis: { status: 'up' }, config: { status: 'up', role: 'all' } });
    // The test Redis keeps nothing on disk: readiness says so, as a warning, not a failure.
    expect(body.details.redis.warnings).toEqual([expect.stringContaining('appendonly yes')]);
  });

  describe('/api/v1 bearer tokens', () => {
    it('rejects a request without a token with a JSON error', async () => {
      const res = await fetch(`${sut.url}/api/v1/status`);
      expect(res.status).toBe(401);
      expect(await json(res)).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('Bearer') } });
    });

    it('rejects an unknown token, and a token with a known prefix', async () => {
      for (const token of ['nope-nope-nope-nope', `${TEST_API_TOKEN}x`, TEST_API_TOKEN.slice(0, -1)]) {
        const res = await fetch(`${sut.url}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(401);
        expect((await json(res)).error.code).toBe('unauthorized');
      }
    });

    it('accepts any configured token', async () => {
      for (const token of [TEST_API_TOKEN, 'other-token-0123456789']) {
        const res = await fetch(`${sut.url}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        expect(await json(res)).toMatchObject({ service: 'rs-bridge', role: 'all', redisPrefix: sut.prefix });
      }
    });
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const res = await fetch(`${sut.url}/nowhere`);
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({ error: { code: 'not_found', message: 'Cannot GET /nowhere' } });
  });

  it('answers an unparsable JSON body with 400 in the JSON error shape', async () => {
    const res = await fetch(`${sut.url}/api/v1/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_TOKEN}` },
      body: '{"unclosed',
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/JSON/) });
  });

  it('answers an oversized body with 413 in the JSON error shape', async () => {
    const res = await fetch(`${sut.url}/api/v1/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_TOKEN}` },
      body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe('payload_too_large');
  });

  it('echoes a sane caller request id and replaces an unsafe one', async () => {
    const kept = await fetch(`${sut.url}/healthz`, { headers: { 'x-request-id': 'zd-1234.abc' } });
    expect(kept.headers.get('x-request-id')).toBe('zd-1234.abc');
    const replaced = await fetch(`${sut.url}/healthz`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
