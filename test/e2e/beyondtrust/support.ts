import Redis from 'ioredis';
import { BeyondTrustClient, BeyondTrustClientOptions } from '../../../src/beyondtrust/beyondtrust.client';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../../support/redis';

export const CLIENT_ID = 'rsb-client';
export const CLIENT_SECRET = 'rsb-secret-0123456789';

/** Real clients (each with its own Redis connection, as separate pods would have) against one fake appliance. */
export class ClientHarness {
  readonly prefix = uniquePrefix('bt');
  private readonly connections: Redis[] = [];

  constructor(readonly fake: FakeAppliance) {}

  client(overrides: Partial<BeyondTrustClientOptions> = {}): BeyondTrustClient {
    const redis = new Redis(REDIS_URL);
    this.connections.push(redis);
    return new BeyondTrustClient(redis, {
      siteUrl: this.fake.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      perSecond: 20,
      perHour: 15_000,
      timeoutMs: 2_000,
      redisPrefix: this.prefix,
      ...overrides,
    });
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.disconnect();
    await deleteKeys(this.prefix);
  }
}

/** Runs `fn` with a client of an API account holding other permissions, on an appliance of its own. */
export async function withAccount(permissions: Record<string, string>, fn: (client: BeyondTrustClient) => Promise<void>): Promise<void> {
  const fake = await new FakeAppliance({ accounts: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, permissions }] }).start();
  const harness = new ClientHarness(fake);
  try {
    await fn(harness.client());
  } finally {
    await harness.close();
    await fake.stop();
  }
}
