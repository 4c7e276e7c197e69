import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp, CreateAppOptions } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/config/load-config';
import { deleteKeys, REDIS_URL, uniquePrefix } from './redis';

export const TEST_API_TOKEN = 'test-token-0123456789abcdef';

export interface RunningApp {
  app: NestFastifyApplication;
  url: string;
  prefix: string;
  close(): Promise<void>;
}

export interface StartAppOptions extends CreateAppOptions {
  /** Settings no variable gives (AppConfig's test and bench seams), on top of what the environment says. */
  config?: Pick<AppConfig, 'jobRetry' | 'btHourMs'>;
}

/** Boots the real application in this process on a random loopback port, with its own Redis prefix. */
export async function startApp(env: Record<string, string> = {}, options: StartAppOptions = {}): Promise<RunningApp> {
  const { config: seams, ...extra } = options;
  const prefix = env.RSB_REDIS_PREFIX ?? uniquePrefix();
  const config = loadConfig({
    REDIS_URL,
    LOG_LEVEL: 'silent',
    RSB_API_TOKENS: TEST_API_TOKEN,
    // Closing an app in a test need not wait for a load balancer; the drain has its own test.
    RSB_DRAIN_SECONDS: '0',
    // The watchdogs stop the whole process, here the test runner; they have their own tests.
    RSB_WATCHDOG_BLOCKED_SECONDS: '0',
    RSB_WATCHDOG_STALL_SECONDS: '0',
    ...env,
    RSB_REDIS_PREFIX: prefix,
    PORT: '1',
  });
  const app = await createApp({ ...config, ...seams }, extra);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = await app.getUrl();
  return {
    app,
    url: url.replace('[::1]', '127.0.0.1'),
    prefix,
    async close() {
      await app.close();
      await deleteKeys(prefix);
    },
  };
}
