import { runSoak } from '../../bench/soak';

/**
 * The short version of `npm run soak` (issue 20): the built app (dist/main.js, which CI builds before the
 * tests) as 2 api + 3 worker processes, 30 lifecycles, a worker kill -9'd every 3 s. Every ticket gets its
 * key reply, its transcript and its recording exactly once, and no other write twice. The counts are taken
 * once the queues have drained, so a write waiting out a retry back-off is not miscounted as lost; any
 * lifecycle off by one comes with its jobs' states in the failure message.
 */
describe('many processes, workers killed (soak, short)', () => {
  it('30 lifecycles with workers kill -9d: 0 writes lost, 0 duplicated', async () => {
    const result = await runSoak({ lifecycles: 30, settleTimeoutMs: 90_000 });
    const once = { expected: 30, seen: 30, lost: 0, duplicated: 0 };
    expect({ writes: result.writes, suspects: result.suspects }).toEqual({
      writes: { 'key reply': once, transcript: once, recording: once, 'other duplicates': 0 },
      suspects: [],
    });
    // The workers were killed, or the run proves nothing about kills.
    expect(result.workerKills).toBeGreaterThan(0);
  }, 240_000);
});
