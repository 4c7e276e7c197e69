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

  it('counts a request held until answered from its answer, or from its hold when the answer is slow or never comes', async () => {
    const keyPrefix = account();
    const pod = limiter({ keyPrefix, perSecond: 2, spacingMs: 0, marginMs: 0 });
    const other = limiter({ keyPrefix, perSecond: 2, spacingMs: 0, marginMs: 0 });
    const started = Date.now();
    // Two requests in flight fill the window: a third waits while they are, however long ago their grants.
    const slow = await pod.acquireUntilAnswered(undefined, 'batch', 60_000);
    const fast = await pod.acquireUntilAnswered(undefined, 'batch', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    await expect(other.acquire(timeout(200), 'batch')).rejects.toBeDefined();
    // One answers now: its slot frees a window later, not a window after its grant.
    const answeredAt = Date.now();
    await fast.answered();
    await other.acquire(timeout(3_000), 'batch');
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(950);
    expect(Date.now() - answeredAt).toBeLessThan(2_500);
    // The slow one, still in flight, still counts beside that grant: the next waits for the grant to age out.
    const nextAsked = Date.now();
    await other.acquire(timeout(3_000), 'batch');
    expect(Date.now() - nextAsked).toBeGreaterThanOrEqual(900);
    await slow.answered();

    // A request whose answer never comes (its pod died) counts until its hold, then for a window.
    const deadPrefix = account();
    const dead = limiter({ keyPrefix: deadPrefix, perSecond: 1, spacingMs: 0, marginMs: 0 });
    const alive = limiter({ keyPrefix: deadPrefix, perSecond: 1, spacingMs: 0, marginMs: 0 });
    const heldFrom = Date.now();
    await dead.acquireUntilAnswered(undefined, 'interactive', 500);
    await alive.acquire(timeout(3_000), 'interactive');
    expect(Date.now() - heldFrom).toBeGreaterThanOrEqual(1_450);
    expect(Date.now() - heldFrom).toBeLessThan(2_900);

    // An answer slower than the hold (a report the appliance takes seconds to make) frees the slot a window
    // after the hold, not a window after the answer.
    const slowPrefix = account();
    const reporter = limiter({ keyPrefix: slowPrefix, perSecond: 1, spacingMs: 0, marginMs: 0 });
    const next = limiter({ keyPrefix: slowPrefix, perSecond: 1, spacingMs: 0, marginMs: 0 });
    const report = await reporter.acquireUntilAnswered(undefined, 'batch', 300);
    // Answered 2 s after its grant: its slot freed at 1.3 s (hold + window), so the next goes at once; counted
    // from the answer it would wait another second.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await report.answered();
    const askedAt = Date.now();
    await next.acquire(timeout(3_000), 'batch');
    expect(Date.now() - askedAt).toBeLessThan(500);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a batch request yielding to a waiting reply asks Redis a few times a second, not every few ms', async () => {
    const keyPrefix = account();
    // A ticket system's budget: a minute's window, no spacing, 60 a minute (a grant's even share: 1 s).
    const options = { keyPrefix, perSecond: 60, windowMs: 60_000, spacingMs: 0, marginMs: 0, perHour: Number.MAX_SAFE_INTEGER };
    const replies = limiter({ ...options, interactiveReservePercent: 0, batchBurst: Number.MAX_SAFE_INTEGER });
    const notes = limiter({ ...options, interactiveReservePercent: 0, batchBurst: Number.MAX_SAFE_INTEGER });
    for (let i = 0; i < 60; i += 1) await replies.acquire(timeout(1_000), 'interactive');
    const notesRedis = connections[connections.length - 1];
    let asked = 0;
    const evalOnce = notesRedis.eval.bind(notesRedis);
    notesRedis.eval = ((...args: Parameters<typeof evalOnce>) => {
      asked += 1;
      return evalOnce(...args);
    }) as typeof notesRedis.eval;
    // The minute is spent; a reply waits (announced), and a note waits behind it for 1.5 s.
    const reply = replies.acquire(timeout(2_000), 'interactive').catch(() => 'gave up');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(notes.acquire(timeout(1_500), 'batch')).rejects.toBeDefined();
    expect(await reply).toBe('gave up');
    // A quarter of a grant's share (250 ms) between asks: about 6 in 1.5 s; every 5 ms would be about 250.
    expect(asked).toBeGreaterThanOrEqual(3);
    expect(asked).toBeLessThan(20);
  });
});
