import Redis from 'ioredis';
import { RateLimiterOptions, SharedRateLimiter } from '../../../src/beyondtrust/rate-limiter';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../../support/redis';

/** The limiter's lanes against the real Redis, each "pod" with its own connection. */
describe('appliance rate limiter: interactive and batch lanes (real Redis)', () => {
  const prefix = uniquePrefix('lanes');
  const connections: Redis[] = [];
  let n = 0;

  const limiter = (options: Partial<RateLimiterOptions>): SharedRateLimiter => {
    const redis = new Redis(REDIS_URL);
    connections.push(redis);
    return new SharedRateLimiter(redis, { perSecond: 20, perHour: 15_000, ...options, keyPrefix: `${prefix}:${options.keyPrefix ?? 'x'}` });
  };
  const account = () => `acct${(n += 1)}`;
  const timeout = (ms: number) => AbortSignal.timeout(ms);

  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await deleteKeys(prefix);
  });

  it('lets an interactive request ahead of a batch backlog waiting on the per-second window', async () => {
    const keyPrefix = account();
    const batchPod = limiter({ keyPrefix, perSecond: 5 });
    const keyPod = limiter({ keyPrefix, perSecond: 5 });
    const started = Date.now();
    const batchDone: number[] = [];
    const backlog = Array.from({ length: 15 }, () => batchPod.acquire(undefined, 'batch').then(() => batchDone.push(Date.now() - started)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const keyAsked = Date.now() - started;
    await keyPod.acquire(undefined, 'interactive');
    const keyGranted = Date.now() - started;
    await Promise.all(backlog);
    // One grant every 200 ms: the 15 batch requests alone take about 3 s. The key is granted within a
    // spacing or two of asking, and most of the backlog still waits after it.
    expect(keyGranted - keyAsked).toBeLessThan(700);
    expect(batchDone.filter((t) => t > keyGranted).length).toBeGreaterThanOrEqual(10);
  });

  it('keeps BT_INTERACTIVE_RESERVE_PERCENT of the hour for interactive requests', async () => {
    const keyPrefix = account();
    const pod = limiter({ keyPrefix, perSecond: 1000, perHour: 10, interactiveReservePercent: 20, batchBurst: 100 });
    expect(pod.batchPerHour).toBe(8);
    for (let i = 0; i < 8; i += 1) await pod.acquire(timeout(2_000), 'batch');
    await expect(pod.acquire(timeout(500), 'batch')).rejects.toBeDefined();
    // The reserve is there for keys, from another pod too.
    const other = limiter({ keyPrefix, perSecond: 1000, perHour: 10, interactiveReservePercent: 20 });
    await other.acquire(timeout(2_000), 'interactive');
    await other.acquire(timeout(2_000), 'interactive');
    // And then the hour is spent for everyone.
    await expect(other.acquire(timeout(500), 'interactive')).rejects.toBeDefined();
  });

  it('paces a batch backlog to the hourly rate once its burst is spent, while keys go at once', async () => {
    const keyPrefix = account();
    // A compressed "hour" of 4 s holding 40 batch requests: one every 100 ms after a burst of 4.
    const pod = limiter({ keyPrefix, perSecond: 1000, perHour: 40, interactiveReservePercent: 0, hourMs: 4_000, batchBurst: 4 });
    const started = Date.now();
    for (let i = 0; i < 4; i += 1) await pod.acquire(timeout(2_000), 'batch');
    const burst = Date.now() - started;
    for (let i = 0; i < 6; i += 1) await pod.acquire(timeout(2_000), 'batch');
    const paced = Date.now() - started - burst;
    expect(burst).toBeLessThan(150);
    expect(paced).toBeGreaterThanOrEqual(500);
    expect(paced).toBeLessThan(1_500);
    const keyStart = Date.now();
    await pod.acquire(timeout(2_000), 'interactive');
    expect(Date.now() - keyStart).toBeLessThan(100);
  });

  it('an interactive waiter that gives up stops holding batch work', async () => {
    const keyPrefix = account();
    const pod = limiter({ keyPrefix, perSecond: 1000, perHour: 2, interactiveReservePercent: 50, batchBurst: 10 });
    await pod.acquire(timeout(1_000), 'interactive');
    await pod.acquire(timeout(1_000), 'batch');
    // The hour is spent: an interactive request waits, announced, then gives up.
    await expect(pod.acquire(timeout(300), 'interactive')).rejects.toBeDefined();
    const redis = connections[connections.length - 1];
    expect(await redis.zcard(`${prefix}:${keyPrefix}:waiting`)).toBe(0);
  });
});
