/**
 * Builds the Zendesk app zip that Admin Center > Apps > "Upload private app" accepts, from apps/zendesk:
 * manifest.json, assets/ (with the ZAF SDK taken from node_modules, no CDN) and translations/.
 *
 *   npm run zendesk-app -- --bridge-url https://rs-bridge.example.com [--out apps/zendesk/out/rs-bridge-zendesk.zip]
 *
 * The bridge's host goes in the manifest's domainWhitelist: Zendesk's proxy only puts a secure setting
 * (the API token) into requests to the hosts listed there, so the zip is built for one bridge.
 */
import { zipSync } from 'fflate';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const APP_DIR = resolve(__dirname, '..', 'apps', 'zendesk');
const SDK_DIR = dirname(require.resolve('zendesk_app_framework_sdk/package.json'));
const SDK_MODULES = ['./index', './client', './utils', './vendor/native-promise-only'];

/**
 * The SDK ships as CommonJS sources (lib/), not as a browser file: wrap them in a tiny module table so
 * the page gets `window.ZAFClient` exactly as from Zendesk's CDN build, without a bundler.
 */
export function zafSdkBundle(): string {
  const pkg = JSON.parse(readFileSync(join(SDK_DIR, 'package.json'), 'utf8')) as { version: string };
  const modules = SDK_MODULES.map(
    (name) =>
      `${JSON.stringify(name)}: function (module, exports, require) {\n${readFileSync(join(SDK_DIR, 'lib', `${name}.js`), 'utf8')}\n}`,
  );
  return [
    `/*! zendesk_app_framework_sdk ${pkg.version} (c) Zendesk, Apache-2.0 — bundled by rs-bridge from node_modules */`,
    '(function () {',
    `  var sources = {\n${modules.join(',\n')}\n  };`,
    '  var cache = {};',
    '  function load(name) {',
    '    if (cache[name]) return cache[name].exports;',
    '    var module = (cache[name] = { exports: {} });',
    '    sources[name].call(window, module, module.exports, function (dep) { return load(dep); });',
    '    return module.exports;',
    '  }',
    "  window.ZAFClient = load('./index');",
    '})();',
    '',
  ].join('\n');
}

/** The app's files by path in the zip. */
export function zendeskAppFiles(bridgeUrl: string): Record<string, Uint8Array> {
  let url: URL;
  try {
    url = new URL(bridgeUrl);
  } catch {
    throw new Error(`--bridge-url must be the bridge's base URL (https://…), got "${bridgeUrl}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`--bridge-url must be http(s), got ${url.protocol}`);
  const manifest = JSON.parse(readFileSync(join(APP_DIR, 'manifest.json'), 'utf8')) as {
    domainWhitelist: string[];
    parameters: { name: string; default?: string }[];
  };
  manifest.domainWhitelist = [url.host];
  const base = url.href.replace(/\/+$/, '');
  for (const parameter of manifest.parameters) if (parameter.name === 'bridge_url') parameter.default = base;
  const text = (s: string) => new TextEncoder().encode(s);
  const file = (path: string) => new Uint8Array(readFileSync(join(APP_DIR, path)));
  return {
    'manifest.json': text(`${JSON.stringify(manifest, null, 2)}\n`),
    'assets/iframe.html': file('assets/iframe.html'),
    'assets/main.js': file('assets/main.js'),
    'assets/main.css': file('assets/main.css'),
    'assets/zaf_sdk.js': text(zafSdkBundle()),
    'translations/en.json': file('translations/en.json'),
  };
}

export function zendeskAppZip(bridgeUrl: string): Uint8Array {
  // A fixed date keeps the zip the same for the same sources.
  const mtime = new Date('2026-01-01T00:00:00Z');
  return zipSync(Object.fromEntries(Object.entries(zendeskAppFiles(bridgeUrl)).map(([path, data]) => [path, [data, { mtime }]])), {
    level: 9,
  });
}

function main(argv: string[]): void {
  const arg = (name: string) => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
  };
  const bridgeUrl = arg('bridge-url');
  if (!bridgeUrl) {
    console.error('usage: npm run zendesk-app -- --bridge-url https://rs-bridge.example.com [--out file.zip]');
    process.exit(2);
  }
  const out = resolve(arg('out') ?? join(APP_DIR, 'out', 'rs-bridge-zendesk-app.zip'));
  const zip = zendeskAppZip(bridgeUrl);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, zip);
  console.log(
    `wrote ${out} (${zip.length} bytes) for ${new URL(bridgeUrl).host}; upload it in Admin Center > Apps and integrations > Zendesk Support apps > Upload private app`,
  );
}

if (require.main === module) main(process.argv.slice(2));
