import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { RunningApp, startApp } from '../support/app';
import { ROOT } from '../support/child';
import { applianceEnv } from '../support/fake-env';

const ADMIN = { username: 'ops', password: 'ops-password-0123' };
const ARTIFACTS = join(ROOT, 'test', 'artifacts');

/**
 * The pages operators open, in a real browser: Debian's Chromium (.ci/run installs it) driven by
 * playwright-core. Screenshots land in test/artifacts/ (git-ignored) for a look after a failure.
 */
describe('operator pages in headless Chromium', () => {
  let appliance: FakeAppliance;
  let sut: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    appliance = await new FakeAppliance().start();
    sut = await startApp({
      ...applianceEnv(appliance),
      BT_POLL_INTERVAL_SECONDS: '0',
      RSB_ADMIN_USER: ADMIN.username,
      RSB_ADMIN_PASSWORD: ADMIN.password,
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sut.close();
    await appliance.stop();
  });

  it('renders the queue dashboard with every queue', async () => {
    const context = await browser.newContext({ httpCredentials: ADMIN });
    const page = await context.newPage();
    await page.goto(`${sut.url}/admin/queues`);
    for (const queue of ['ticket-events', 'session-end', 'recordings', 'session-poll'])
      await page.getByText(queue, { exact: true }).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-queues.png'), fullPage: true });
    await context.close();
  }, 60_000);

  it('renders the API docs with the webhook and API endpoints', async () => {
    const page = await browser.newPage();
    await page.goto(`${sut.url}/docs`);
    for (const path of ['/webhooks/zendesk', '/webhooks/beyondtrust', '/api/v1/cobrowse/watch-urls'])
      await page.getByText(path, { exact: true }).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'docs.png'), fullPage: true });
    await page.close();
  }, 60_000);
});
