import { redisAddress, redisOptions, workerConnection } from '../../../src/redis/redis-options';

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

describe('redisAddress', () => {
  it('names host, port, database and TLS, never the credentials', () => {
    expect(redisAddress('redis://user:p%40ss@cache.internal:6380/3')).toBe('cache.internal:6380/3');
    expect(redisAddress('rediss://:secret@[::1]')).toBe('[::1]:6379 (TLS)');
    expect(redisAddress('redis://10.0.0.5')).toBe('10.0.0.5:6379');
  });
});

describe('workerConnection', () => {
  it("keeps a worker's commands waiting through a reconnect, where a producer's fail fast", () => {
    const queue = redisOptions('redis://127.0.0.1:6379', 'queue');
    expect(workerConnection(queue)).toMatchObject({ ...queue, enableOfflineQueue: true, maxRetriesPerRequest: null });
    expect(queue.enableOfflineQueue).toBe(false);
  });
});
