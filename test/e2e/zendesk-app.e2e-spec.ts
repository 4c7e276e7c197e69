import { mkdirSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Browser, chromium, FrameLocator, Page } from 'playwright-core';
import { zendeskAppFiles } from '../../scripts/zendesk-app';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp, TEST_API_TOKEN } from '../support/app';
import { ROOT, until } from '../support/child';
import { applianceEnv, zendeskEnv } from '../support/fake-env';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const EVENTS_TOKEN = 'bt-events-token-0123456789';

interface ProxiedRequest {
  url: string;
  type?: string;
  secure?: boolean;
  headers?: Record<string, string>;
  data?: string;
}

/**
 * Zendesk's part, as its documents describe it: the agent's page frames the app with `origin` and
 * `app_guid`, answers the SDK's handshake with the installation's settings (never the secure ones),
 * answers `get` and `invoke`, and runs `request` through Zendesk's server-side proxy, which puts the
 * secure setting in place of {{setting.api_token}} for hosts in the manifest's domainWhitelist only.
 */
const HOST_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fake Zendesk agent workspace</title>
<style>body{margin:0;font:14px sans-serif;background:#f8f9f9} aside{width:340px;margin:8px;background:#fff;border:1px solid #d8dcde}
iframe{border:0;width:100%;height:200px;display:block}</style></head>
<body><aside><iframe id="app" title="rs-bridge remote support"></iframe></aside>
<script>
  const setup = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  window.resizes = [];
  const frame = document.getElementById('app');
  const reply = (message) => frame.contentWindow.postMessage(JSON.stringify(message), '*');
  const lookup = (path) => {
    if (path === 'ticket') return setup.ticket;
    if (path === 'currentUser') return setup.currentUser;
    const field = /^ticket\\.customField:custom_field_(\\d+)$/.exec(path);
    if (field) return setup.ticket.customFields[field[1]];
    throw new Error('no such path ' + path);
  };
  window.addEventListener('message', async (event) => {
    if (event.source !== frame.contentWindow) return;
    const data = typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
    if (data.key === 'iframe.handshake')
      return reply({ key: 'zaf.app.registered', message: { metadata: { appId: 1, installationId: 1, settings: setup.settings }, context: { location: 'ticket_sidebar', ticketId: setup.ticket.id } } });
    if (data.request === 'get') {
      const result = { errors: {} };
      for (const path of data.params) {
        try { result[path] = lookup(path); } catch (e) { result.errors[path] = { message: e.message }; }
      }
      return reply({ id: data.id, result });
    }
    if (data.request === 'invoke') {
      if (data.params.resize) { window.resizes.push(data.params.resize[0]); frame.style.height = data.params.resize[0].height; }
      return reply({ id: data.id, result: {} });
    }
    if (typeof data.key === 'string' && /^request:\\d+$/.test(data.key)) {
      const res = await fetch('/proxy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data.message) });
      const out = await res.json();
      if (out.status >= 200 && out.status < 300)
        reply({ key: 'zaf.' + data.key + '.done', message: { responseArgs: [out.json, 'success', { status: out.status }] } });
      else
        reply({ key: 'zaf.' + data.key + '.fail', message: { responseArgs: [{ status: out.status, responseText: out.text, responseJSON: out.json }] } });
    }
  });
  frame.src = '/app/assets/iframe.html?origin=' + encodeURIComponent(location.origin) + '&app_guid=test-app-guid';
</script></body></html>`;

class FakeAgentWorkspace {
  readonly proxied: ProxiedRequest[] = [];
  /** What Zendesk keeps server-side for the installation: the secure setting. */
  secureToken = TEST_API_TOKEN;
  private server?: Server;
  url = '';

  constructor(private readonly files: Record<string, Uint8Array>) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url!, this.url).pathname;
    if (path === '/agent') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HOST_PAGE);
    if (path.startsWith('/app/') && this.files[path.slice(5)]) {
      const type = path.endsWith('.html') ? 'text/html' : path.endsWith('.css') ? 'text/css' : 'application/javascript';
      return void res.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(Buffer.from(this.files[path.slice(5)]));
    }
    if (path === '/proxy' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const options = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ProxiedRequest;
      this.proxied.push(options);
      const manifest = JSON.parse(Buffer.from(this.files['manifest.json']).toString('utf8')) as { domainWhitelist: string[] };
      const target = new URL(options.url);
      if (!options.secure || !manifest.domainWhitelist.includes(target.host))
        return void res.writeHead(200).end(JSON.stringify({ status: 403, text: 'not in domainWhitelist' }));
      const headers = Object.fromEntries(
        Object.entries(options.headers ?? {}).map(([k, v]) => [k, v.replace('{{setting.api_token}}', this.secureToken)]),
      );
      const upstream = await fetch(target, {
        method: options.type ?? 'GET',
        headers: { ...headers, ...(options.data ? { 'content-type': 'application/json' } : {}) },
        body: options.data,
      });
      const text = await upstream.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: upstream.status, text, json }));
    }
    res.writeHead(404).end();
  }
}

describe('Zendesk sidebar app in headless Chromium, inside a page playing Zendesk', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let workspace: FakeAgentWorkspace;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    sut = await startApp({
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
      BT_EVENTS_TOKEN: EVENTS_TOKEN,
      BT_POLL_INTERVAL_SECONDS: '0',
    });
    appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN);
    workspace = await new FakeAgentWorkspace(zendeskAppFiles(sut.url)).start();
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await workspace.stop();
    await sut.close();
    await Promise.all([appliance.stop(), zendesk.stop()]);
  });

  const open = async (ticketId: string, settings: Record<string, string> = {}): Promise<{ page: Page; app: FrameLocator }> => {
    const setup = {
      settings: { bridge_url: sut.url, ...settings },
      ticket: {
        id: Number(ticketId),
        subject: 'Printer on fire',
        requester: { id: 7, name: 'Casey Customer', email: 'casey@example.com' },
        tags: [],
        customFields: { '360001': 'casey-pc.corp.example' },
      },
      currentUser: { id: 42, name: 'Ada Agent' },
    };
    const page = await browser.newPage({ viewport: { width: 380, height: 700 } });
    await page.goto(`${workspace.url}/agent#${encodeURIComponent(JSON.stringify(setup))}`);
    return { page, app: page.frameLocator('#app') };
  };

  it('sends the key to the ticket, then shows the session ending with its recording', async () => {
    const ticket = zendesk.createTicket('401');
    const { page, app } = await open('401');
    await app.getByText('No session keys or sessions yet.').waitFor({ timeout: 15_000 });

    await app.getByRole('button', { name: 'Send session key' }).click();
    await app
      .getByRole('status')
      .getByText(/^Session key \d{7} sent to the ticket\.$/)
      .waitFor({ timeout: 15_000 });
    const shortKey = /\d{7}/.exec((await app.getByRole('status').textContent())!)![0];
    expect(ticket.comments.find((c) => c.public)?.body).toContain(shortKey);
    await app
      .getByRole('listitem')
      .filter({ hasText: `Session key ${shortKey}` })
      .getByText(/^Key issued, not used yet/)
      .waitFor();

    const s = appliance.startSession({ externalKey: '401' });
    appliance.joinRep(s.lsid, '2');
    await app.getByText(`In progress with ${appliance.reps[1].username}`).waitFor({ timeout: 15_000 });
    appliance.addRecording(s.lsid, 'session', 64 * 1024);
    appliance.endSession(s.lsid);
    const item = app.getByRole('listitem').filter({ hasText: `Session key ${shortKey}` });
    await item.getByText(/^Ended after .* s, with /).waitFor({ timeout: 30_000 });
    await item.getByText('Transcript noted, recording attached').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'zendesk-sidebar.png'), fullPage: true });

    // The token stayed with "Zendesk": the app only ever sent the placeholder, through the secure proxy.
    expect(workspace.proxied.length).toBeGreaterThanOrEqual(3);
    for (const request of workspace.proxied) {
      expect(request.secure).toBe(true);
      expect(request.headers?.Authorization).toBe('Bearer {{setting.api_token}}');
    }
    expect(JSON.stringify(workspace.proxied)).not.toContain(TEST_API_TOKEN);
    expect(await page.evaluate('window.resizes.length')).toBeGreaterThan(0);
    await page.close();
  }, 90_000);

  it('offers "Jump to" the machine the ticket field names and opens the link', async () => {
    const ticket = zendesk.createTicket('402');
    const { page, app } = await open('402', { jump_target_field: '360001' });
    const popup = page.waitForEvent('popup');
    await app.getByRole('button', { name: 'Jump to casey-pc.corp.example' }).click();
    expect((await popup).url()).toContain('/api/client_script?');
    await app
      .getByRole('status')
      .getByText(/^Jump to casey-pc\.corp\.example started/)
      .waitFor({ timeout: 15_000 });
    await until(async () => ticket.comments.length === 1, 5_000, 'the Jump note');
    expect(ticket.comments[0]).toMatchObject({ public: false, body: expect.stringContaining('casey-pc.corp.example') });
    await page.close();
  }, 60_000);

  it('explains a token the bridge refuses', async () => {
    zendesk.createTicket('403');
    workspace.secureToken = 'not-a-valid-token-0000000000';
    try {
      const { page, app } = await open('403');
      await app
        .getByRole('alert')
        .getByText(/does not accept this app's API token/)
        .waitFor({ timeout: 15_000 });
      await page.close();
    } finally {
      workspace.secureToken = TEST_API_TOKEN;
    }
  }, 60_000);
});
