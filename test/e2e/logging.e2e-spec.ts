import { freePort, spawnTs } from '../support/child';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';

describe('request logs', () => {
  it('write one JSON line per request with its id, and no secret anywhere', async () => {
    const apiToken = 'api-token-5f3c0d9a1b2e4c6d8e';
    const redisPassword = 'redis-pw-7a1b9c';
    const prefix = uniquePrefix('log');
    const port = await freePort();
    // The local Redis has no password: ioredis warns and carries on, so the URL holds a secret to hide without breaking the app.
    const redisUrl = REDIS_URL.replace('redis://', `redis://:${redisPassword}@`);
    const child = spawnTs('src/main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      RSB_REDIS_PREFIX: prefix,
      RSB_API_TOKENS: apiToken,
      LOG_LEVEL: 'debug',
    });
    try {
      await child.waitForOutput(/listening on/);
      const base = `http://127.0.0.1:${port}`;
      await fetch(`${base}/api/v1/status`, {
        headers: {
          authorization: `Bearer ${apiToken}`,
          cookie: 'session=cookie-secret-value',
          'x-zendesk-webhook-signature': 'zendesk-signature-value',
          'webhook-signature': 'v1,generic-signature-value',
          'x-request-id': 'trace-42',
        },
      });
      await fetch(`${base}/api/v1/status?outbound_event_token=query-secret-value&lsid=1`);
      // A secret in a place no header rule knows of: the path. Only value-based redaction catches it.
      await fetch(`${base}/nothing/${apiToken}`);
      await child.waitForOutput(/\/nothing\//);
    } finally {
      child.process.kill('SIGTERM');
      await child.exited;
      await deleteKeys(prefix);
    }
    const out = child.stdout();
    for (const secret of [
      apiToken,
      redisPassword,
      'cookie-secret-value',
      'zendesk-signature-value',
      'generic-signature-value',
      'query-secret-value',
    ]) {
      expect(out).not.toContain(secret);
    }
    const lines = out
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            level: number;
            msg: string;
            req?: { id: string; url: string; headers: Record<string, string> };
            res?: { statusCode: number };
            responseTime?: number;
          },
      );
    const requests = lines.filter((l) => l.req);
    expect(requests).toHaveLength(3);
    expect(requests[0]).toMatchObject({
      req: { id: 'trace-42', headers: { authorization: '[REDACTED]', cookie: '[REDACTED]' } },
      res: { statusCode: 200 },
    });
    expect(requests[1].req!.url).toBe('/api/v1/status?outbound_event_token=[REDACTED]&lsid=1');
    expect(requests[2].req!.url).toBe('/nothing/[REDACTED]');
    // pino levels: 30 info for answered requests, 40 warn for client errors such as the 404.
    expect(requests.map((l) => [l.level, l.res?.statusCode, l.msg])).toEqual([
      [30, 200, 'request completed'],
      [40, 401, 'request completed'],
      [40, 404, 'request completed'],
    ]);
    expect(requests.every((l) => typeof l.responseTime === 'number')).toBe(true);
  });
});
