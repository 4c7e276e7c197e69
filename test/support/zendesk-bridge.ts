import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp } from './app';
import { applianceEnv, zendeskEnv } from './fake-env';

const EVENTS_TOKEN = 'bt-events-token-0123456789';

export interface ZendeskBridge {
  appliance: FakeAppliance;
  zendesk: FakeZendesk;
  sut: RunningApp;
  stop(): Promise<void>;
}

/**
 * The bridge wired to a fake appliance and a fake Zendesk, with polling off: the set-up most flow tests
 * share. With `events` (the default) the appliance's outbound events come to the bridge.
 */
export async function startZendeskBridge(env: Record<string, string> = {}, { events = true } = {}): Promise<ZendeskBridge> {
  const [appliance, zendesk] = await Promise.all([new FakeAppliance().start(), new FakeZendesk().start()]);
  const sut = await startApp({
    ...applianceEnv(appliance),
    ...zendeskEnv(zendesk),
    BT_POLL_INTERVAL_SECONDS: '0',
    ...(events ? { BT_EVENTS_TOKEN: EVENTS_TOKEN } : {}),
    ...env,
  });
  if (events) appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN);
  return {
    appliance,
    zendesk,
    sut,
    async stop() {
      await sut.close();
      await Promise.all([appliance.stop(), zendesk.stop()]);
    },
  };
}
