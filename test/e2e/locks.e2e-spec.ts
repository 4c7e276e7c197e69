import { loadConfig } from '../../src/config/load-config';
import { RedisService } from '../../src/redis/redis.service';
import { Locks } from '../../src/redis/locks';
import { spawnTs } from '../support/child';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';

describe('Session locks follow their holder', () => {
  const prefix = uniquePrefix('lock');
  let redis: RedisService;
  let sut: Locks;

  beforeAll(() => {
    redis = new RedisService(loadConfig({ REDIS_URL, RSB_REDIS_PREFIX: prefix }));
    sut = new Locks(redis);
  });
  afterAll(async () => {
    await redis.onApplicationShutdown();
    await deleteKeys(prefix);
  });

  const tryLock = (name: string) => sut.withLock(name, async () => 'mine');

  it('stays held while its holder lives, and is taken over within the lease once the holder is killed', async () => {
    const holder = spawnTs('test/e2e/fixtures/hold-lock.main.ts', {
      REDIS_URL,
      RSB_REDIS_PREFIX: prefix,
      LOCK_NAME: 'session:4242',
      LEASE_MS: '2000',
    });
    try {
      await holder.waitForOutput(/holding the lock/);
      // Well past the lease: the holder renews it.
      for (const until = Date.now() + 5_000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
        expect(await tryLock('session:4242')).toEqual({ ran: false });
      }
      holder.process.kill('SIGKILL');
      await holder.exited;
      const killedAt = Date.now();
      let taken: Awaited<ReturnType<typeof tryLock>> = { ran: false };
      while (!taken.ran && Date.now() - killedAt < 10_000) {
        await new Promise((r) => setTimeout(r, 100));
        taken = await tryLock('session:4242');
      }
      expect(taken).toEqual({ ran: true, value: 'mine' });
      expect(Date.now() - killedAt).toBeLessThan(3_000);
    } finally {
      if (holder.process.exitCode === null && holder.process.signalCode === null) holder.process.kill('SIGKILL');
    }
  }, 60_000);

  it('tells the work to stop writing when its lock was taken over', async () => {
    const outcome = await sut.withLock(
      'session:4343',
      async (lost) => {
        // Another worker took the lock over (ours expired while this one was stuck, say).
        await redis.connection.set(redis.key('lock', 'session:4343'), 'someone-else');
        for (const until = Date.now() + 3_000; !lost.aborted && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
        return lost.aborted ? (lost.reason as Error).message : 'not told';
      },
      600,
    );
    expect(outcome).toEqual({ ran: true, value: 'lock session:4343 was taken over by another worker' });
    // The other worker's lock is left alone.
    expect(await redis.connection.get(redis.key('lock', 'session:4343'))).toBe('someone-else');
  });
});
