import { Cluster } from 'ioredis';
import {
  createRedis,
  effectivePrefix,
  parseHostPort,
  redisAddress,
  redisMode,
  redisOptions,
  RedisSettings,
  singleRedis,
  workerCluster,
  workerConnection,
} from '../../../src/redis/redis-options';

const sentinel: RedisSettings = {
  ...singleRedis('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: ['s1.internal:26379', '[::1]:26380'],
  REDIS_SENTINEL_MASTER: 'main',
  REDIS_SENTINEL_PASSWORD: 'sentinel-pass',
  REDIS_PASSWORD: 'redis-pass',
  REDIS_USERNAME: 'bridge',
  REDIS_TLS: true,
};
const cluster: RedisSettings = {
  ...singleRedis('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: ['n1:7000', 'n2:7001'],
  REDIS_PASSWORD: 'redis-pass',
};

describe('redisOptions', () => {
  it('reads host, port, credentials and database from the URL', () => {
    expect(redisOptions(singleRedis('redis://user:p%40ss@cache.internal:6380/3'), 'command')).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 3,
      tls: undefined,
    });
  });

  it('takes REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS for a single Redis too', () => {
    const settings = { ...singleRedis('redis://cache.internal'), REDIS_USERNAME: 'u', REDIS_PASSWORD: 'p', REDIS_TLS: true };
    expect(redisOptions(settings, 'command')).toMatchObject({ host: 'cache.internal', username: 'u', password: 'p', tls: {} });
  });

  it('turns on TLS for rediss:// and accepts IPv6 hosts', () => {
    expect(redisOptions(singleRedis('rediss://[::1]'), 'command')).toMatchObject({ host: '::1', port: 6379, tls: {} });
  });

  it('asks the sentinels for the named master, with the credentials of both and TLS to both', () => {
    const options = redisOptions(sentinel, 'command');
    expect(options).toMatchObject({
      sentinels: [
        { host: 's1.internal', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'main',
      sentinelPassword: 'sentinel-pass',
      username: 'bridge',
      password: 'redis-pass',
      tls: {},
      sentinelTLS: {},
      enableTLSForSentinelMode: true,
    });
    expect(options.host).toBeUndefined();
  });

  it('makes producers fail fast and lets BullMQ workers wait through reconnects', () => {
    const queue = redisOptions(singleRedis('redis://127.0.0.1:6379'), 'queue');
    expect(queue.enableOfflineQueue).toBe(false);
    expect(queue.maxRetriesPerRequest).toBeNull();
  });

  it('lets short commands wait for the first connection but give up after one retry in an outage', () => {
    expect(redisOptions(singleRedis('redis://127.0.0.1:6379'), 'command')).toMatchObject({
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
    });
  });

  it('keeps reconnecting with a bounded backoff', () => {
    const { retryStrategy, sentinelRetryStrategy } = redisOptions(sentinel, 'queue');
    expect(retryStrategy!(1)).toBe(200);
    expect(retryStrategy!(1000)).toBe(5000);
    expect(sentinelRetryStrategy!(1000)).toBe(5000);
  });
});

describe('createRedis in Cluster mode', () => {
  it('builds a Cluster client of the listed nodes with the per-node credentials and the purpose', () => {
    const client = createRedis(cluster, 'queue', { lazyConnect: true }) as Cluster;
    try {
      expect(client).toBeInstanceOf(Cluster);
      expect(client.options.enableOfflineQueue).toBe(false);
      // ioredis sets no periodic slot refresh by itself.
      expect(client.options.slotsRefreshInterval).toBe(5_000);
      expect(client.options.redisOptions).toMatchObject({ password: 'redis-pass', maxRetriesPerRequest: null });
      const worker = workerCluster(client);
      worker.on('error', () => undefined);
      expect(worker.options.enableOfflineQueue).toBe(true);
      expect(worker.options.slotsRefreshInterval).toBe(5_000);
      expect(worker.options.redisOptions).toMatchObject({ password: 'redis-pass', maxRetriesPerRequest: null });
      worker.disconnect();
    } finally {
      client.disconnect();
    }
  });
});

describe('redisMode and effectivePrefix', () => {
  it('names the mode from the variables that are set', () => {
    expect(redisMode(singleRedis('redis://x'))).toBe('single');
    expect(redisMode(sentinel)).toBe('sentinel');
    expect(redisMode(cluster)).toBe('cluster');
  });

  it('puts a hash tag around the prefix in Cluster mode only, and keeps one that is there', () => {
    expect(effectivePrefix(cluster, 'rsb')).toBe('{rsb}');
    expect(effectivePrefix(cluster, 'prod:{rsb}')).toBe('prod:{rsb}');
    expect(effectivePrefix(sentinel, 'rsb')).toBe('rsb');
    expect(effectivePrefix(singleRedis('redis://x'), 'rsb')).toBe('rsb');
  });

  it('reads host:port lists, with IPv6 in brackets', () => {
    expect(parseHostPort('[fd00::1]:7000', 6379)).toEqual({ host: 'fd00::1', port: 7000 });
    expect(parseHostPort('redis-0.redis', 6379)).toEqual({ host: 'redis-0.redis', port: 6379 });
    expect(() => parseHostPort('a:b:c', 6379)).toThrow(/host:port/);
  });
});

describe('redisAddress', () => {
  it('names the mode, hosts, ports, database and TLS, never the credentials', () => {
    expect(redisAddress(singleRedis('redis://user:p%40ss@cache.internal:6380/3'))).toBe('cache.internal:6380/3');
    expect(redisAddress(singleRedis('rediss://:secret@[::1]'))).toBe('[::1]:6379 (TLS)');
    expect(redisAddress(singleRedis('redis://10.0.0.5'))).toBe('10.0.0.5:6379');
    expect(redisAddress(sentinel)).toBe('master main of sentinels s1.internal:26379,[::1]:26380 (TLS)');
    expect(redisAddress(cluster)).toBe('cluster of n1:7000,n2:7001');
    expect(redisAddress(sentinel)).not.toMatch(/pass/);
  });
});

describe('workerConnection', () => {
  it("keeps a worker's commands waiting through a reconnect, where a producer's fail fast", () => {
    const queue = redisOptions(singleRedis('redis://127.0.0.1:6379'), 'queue');
    expect(workerConnection(queue)).toMatchObject({ ...queue, enableOfflineQueue: true, maxRetriesPerRequest: null });
    expect(queue.enableOfflineQueue).toBe(false);
  });
});
