import { Queue } from 'bullmq';
import type { QueueName } from '../../src/jobs/queues';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeBot } from '../fakes/bot/fake-bot';
import { FakeServiceNow } from '../fakes/servicenow/fake-servicenow';
import { FakeUpscope } from '../fakes/upscope/fake-upscope';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp, StartAppOptions } from './app';
import { applianceEnv, servicenowEnv, upscopeEnv, zendeskEnv } from './fake-env';
import { REDIS_URL } from './redis';

const EVENTS_TOKEN = 'bt-events-token-0123456789';

export interface FakeBridge {
  appliance: FakeAppliance;
  zendesk: FakeZendesk;
  servicenow: FakeServiceNow;
  upscope: FakeUpscope;
  sut: RunningApp;
  /** A handle on one of the bridge's queues (under its Redis prefix), to read its jobs; stop() closes it. */
  queue(name: QueueName): Queue;
  stop(): Promise<void>;
}

export interface FakeBridgeOptions {
  /** The appliance's outbound events come to the bridge (BT_EVENTS_TOKEN); on unless false. */
  events?: boolean;
  /** Also wire the fake ServiceNow, the fake Upscope (both always run, so a test can name them). */
  servicenow?: boolean;
  upscope?: boolean;
  /** Settings no variable gives, such as quick job retries (AppConfig.jobRetry). */
  config?: StartAppOptions['config'];
}

/**
 * The bridge wired to a fake appliance and a fake Zendesk (and, when asked, ServiceNow and Upscope),
 * with polling off: the set-up most flow tests share. `env` comes last and wins.
 */
export async function startFakeBridge(env: Record<string, string> = {}, options: FakeBridgeOptions = {}): Promise<FakeBridge> {
  const events = options.events ?? true;
  const [appliance, zendesk, servicenow, upscope] = await Promise.all([
    new FakeAppliance().start(),
    new FakeZendesk().start(),
    new FakeServiceNow().start(),
    new FakeUpscope().start(),
  ]);
  const sut = await startApp(
    {
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
      ...(options.servicenow ? servicenowEnv(servicenow) : {}),
      ...(options.upscope ? upscopeEnv(upscope) : {}),
      BT_POLL_INTERVAL_SECONDS: '0',
      ...(events ? { BT_EVENTS_TOKEN: EVENTS_TOKEN } : {}),
      ...env,
    },
    { config: options.config },
  );
  if (events) appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN);
  const queues: Queue[] = [];
  return {
    appliance,
    zendesk,
    servicenow,
    upscope,
    sut,
    queue(name) {
      const queue = new Queue(name, { connection: { url: REDIS_URL }, prefix: sut.prefix });
      queues.push(queue);
      return queue;
    },
    async stop() {
      await Promise.all(queues.map((q) => q.close()));
      await sut.close();
      await Promise.all([appliance.stop(), zendesk.stop(), servicenow.stop(), upscope.stop()]);
    },
  };
}

export interface ChatBridge {
  appliance: FakeAppliance;
  bot: FakeBot;
  sut: RunningApp;
  stop(): Promise<void>;
}

/**
 * The bridge wired to a fake appliance and a fake chat bot that takes its signed callbacks (on loopback,
 * which callbacks reach only when listed on purpose), with polling off. `env` comes last and wins.
 */
export async function startChatBridge(callbackSecret: string, env: Record<string, string> = {}): Promise<ChatBridge> {
  const [appliance, bot] = await Promise.all([new FakeAppliance().start(), new FakeBot(callbackSecret).start()]);
  const sut = await startApp({
    ...applianceEnv(appliance),
    RSB_CALLBACK_SECRET: callbackSecret,
    RSB_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    BT_POLL_INTERVAL_SECONDS: '0',
    ...env,
  });
  return {
    appliance,
    bot,
    sut,
    async stop() {
      await sut.close();
      await Promise.all([appliance.stop(), bot.stop()]);
    },
  };
}
