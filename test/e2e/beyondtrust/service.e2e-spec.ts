import { BeyondTrustNotConfiguredError } from '../../../src/beyondtrust/beyondtrust.errors';
import { BeyondTrustService } from '../../../src/beyondtrust/beyondtrust.service';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { startApp } from '../../support/app';
import { CLIENT_ID, CLIENT_SECRET } from './support';

describe('BeyondTrustService in the application', () => {
  it('talks to the configured appliance with the shared token and rate limit', async () => {
    const fake = await new FakeAppliance().start();
    const app = await startApp({ BT_SITE_URL: fake.url, BT_CLIENT_ID: CLIENT_ID, BT_CLIENT_SECRET: CLIENT_SECRET });
    try {
      const sut = app.app.get(BeyondTrustService);
      expect(sut.configured).toBe(true);
      await expect(sut.command.getApiInfo()).resolves.toMatchObject({ apiVersion: '1.22.2' });
      await expect(sut.reporting.supportSessionListing({ startTime: 0, duration: 0 })).resolves.toEqual([]);
      const realtime = sut.realtime(['support_session']);
      const ready = new Promise((resolve) => realtime.once('ready', resolve));
      realtime.start();
      await ready;
      await realtime.stop();
      expect(fake.tokenRequests).toBe(1);
    } finally {
      await app.close();
      await fake.stop();
    }
  });

  it('says BeyondTrust is not configured when BT_SITE_URL is unset', async () => {
    const app = await startApp();
    try {
      const sut = app.app.get(BeyondTrustService);
      expect(sut.configured).toBe(false);
      expect(() => sut.command).toThrow(BeyondTrustNotConfiguredError);
      expect(() => sut.command).toThrow('set BT_SITE_URL, BT_CLIENT_ID and BT_CLIENT_SECRET');
    } finally {
      await app.close();
    }
  });
});
