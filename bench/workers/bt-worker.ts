/**
 * One "pod" of the rate-limit benchmark: its own Redis connection and BeyondTrust client, taking
 * requests from a backlog shared in Redis until it is empty.
 */
import Redis from 'ioredis';
import { BeyondTrustClient } from '../../src/beyondtrust/beyondtrust.client';

async function main(): Promise<void> {
  const env = process.env as Record<string, string>;
  const redis = new Redis(env.REDIS_URL);
  const client = new BeyondTrustClient(redis, {
    siteUrl: env.FAKE_URL,
    clientId: env.CLIENT_ID,
    clientSecret: env.CLIENT_SECRET,
    perSecond: Number(env.PER_SECOND),
    perHour: 15_000,
    timeoutMs: 10_000,
    redisPrefix: env.PREFIX,
  });
  // Warm up outside the measurement (modules, first connection, the shared token), then wait for the start.
  await client.tokens.get();
  await redis.incr(`${env.PREFIX}:bench:ready`);
  while ((await redis.get(`${env.PREFIX}:bench:go`)) === null) await new Promise((r) => setTimeout(r, 20));
  let done = 0;
  let failed = 0;
  const lane = async () => {
    while ((await redis.lpop(env.BACKLOG)) !== null) {
      try {
        await client.command.checkHealth();
        done += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Number(env.CONCURRENCY) }, lane));
  process.stdout.write(JSON.stringify({ done, failed }) + '\n');
  redis.disconnect();
}

void main();
