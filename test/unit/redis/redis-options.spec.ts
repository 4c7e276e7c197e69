import { redisOptions } from '../../../src/redis/redis-options';

describe('redisOptions', () => {
  it('reads host, port, credentials and database from the URL', () => {
    expect(redisOptions('redis://user:p%40ss@cache.internal:6380/3', 'command')).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 3,
      tls: undefined,
    });
  });

  it('turns on TLS for rediss:// and accepts IPv6 hosts', () => {
    expect(redisOptions('rediss://[::1]', 'command')).toMatchObject({ host: '::1', port: 6379, tls: {} });
  });

  it('makes producers fail fast and lets BullMQ workers wait through reconnects', () => {
    const queue = redisOptions('redis://127.0.0.1:6379', 'queue');
    expect(queue.enableOfflineQueue).toBe(false);
    expect(queue.maxRetriesPerRequest).toBeNull();
  });

  it('lets short commands wait for the first connection but give up after one retry in an outage', () => {
    expect(redisOptions('redis://127.0.0.1:6379', 'command')).toMatchObject({ enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  });

  it('keeps reconnecting with a bounded backoff', () => {
    const { retryStrategy } = redisOptions('redis://127.0.0.1', 'queue');
    expect(retryStrategy!(1)).toBe(200);
    expect(retryStrategy!(1000)).toBe(5000);
  });
});
