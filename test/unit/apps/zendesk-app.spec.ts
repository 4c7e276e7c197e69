import { strFromU8, unzipSync } from 'fflate';
import { runInNewContext } from 'node:vm';
import { zendeskAppZip } from '../../../scripts/zendesk-app';

describe('npm run zendesk-app: the zip "Upload private app" accepts', () => {
  const files = unzipSync(zendeskAppZip('https://rs-bridge.example.com:8443/'));
  const manifest = JSON.parse(strFromU8(files['manifest.json']));

  it('has the layout Zendesk documents: manifest.json, assets/ and translations/en.json at the root', () => {
    expect(Object.keys(files).sort()).toEqual([
      'assets/iframe.html',
      'assets/main.css',
      'assets/main.js',
      'assets/zaf_sdk.js',
      'manifest.json',
      'translations/en.json',
    ]);
  });

  it('declares a ZAF v2 ticket sidebar app whose token is a secure setting, for the bridge host only', () => {
    expect(manifest).toMatchObject({
      frameworkVersion: '2.0',
      private: true,
      defaultLocale: 'en',
      location: { support: { ticket_sidebar: { url: 'assets/iframe.html' } } },
      domainWhitelist: ['rs-bridge.example.com:8443'],
    });
    const parameters = Object.fromEntries(manifest.parameters.map((p: { name: string }) => [p.name, p]));
    expect(parameters.api_token).toMatchObject({ secure: true, required: true });
    expect(parameters.bridge_url).toMatchObject({ type: 'url', default: 'https://rs-bridge.example.com:8443' });
    const en = JSON.parse(strFromU8(files['translations/en.json']));
    expect(en.app.name).toEqual(expect.any(String));
    for (const name of Object.keys(parameters)) expect(en.app.parameters[name].label).toEqual(expect.any(String));
  });

  it('ships the ZAF SDK from node_modules, loading into window.ZAFClient without a CDN', () => {
    const html = strFromU8(files['assets/iframe.html']);
    expect(html).not.toMatch(/src="(https?:)?\/\//);
    expect(html.indexOf('zaf_sdk.js')).toBeLessThan(html.indexOf('main.js'));
    const window: Record<string, unknown> = { Promise };
    runInNewContext(strFromU8(files['assets/zaf_sdk.js']), { window, document: {} });
    expect(typeof (window.ZAFClient as { init?: unknown }).init).toBe('function');
  });

  it('refuses a bridge URL that is not one', () => {
    expect(() => zendeskAppZip('rs-bridge')).toThrow(/--bridge-url/);
  });
});
