import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/child';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages: string[][] = [];
for (const line of instructions) {
  if (/^FROM /i.test(line)) stages.push([]);
  stages[stages.length - 1]?.push(line);
}
const final = stages[stages.length - 1];

describe('Dockerfile', () => {
  it('builds in one stage and runs from a Node 22 LTS slim image in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]).toMatch(/^FROM node:22[\w.-]*slim\b/);
  });

  it('checks its own health on /healthz with node itself (the slim image has no curl)', () => {
    const checks = final.filter((l) => /^HEALTHCHECK /.test(l));
    expect(checks).toHaveLength(1);
    const cmd = /CMD (\[.*\])$/.exec(checks[0]);
    expect(cmd).not.toBeNull();
    const argv = JSON.parse(cmd![1]) as string[];
    expect(argv.slice(0, 2)).toEqual(['node', '-e']);
    expect(argv[2]).toContain('/healthz');
    expect(checks[0]).toMatch(/--interval=\d+s/);
  });

  it('has a health check command that passes on a 200 from /healthz and fails without an answer', async () => {
    const argv = JSON.parse(/CMD (\[.*\])$/.exec(final.find((l) => /^HEALTHCHECK /.test(l))!)![1]) as string[];
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url!);
      res.writeHead(req.url === '/healthz' ? 200 : 404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const check = (p: number) =>
      new Promise<number | null>((resolve) =>
        execFile(process.execPath, argv.slice(1), { env: { PATH: process.env.PATH, PORT: String(p) } }, (error) =>
          resolve(error ? ((error as { code?: number }).code ?? 1) : 0),
        ),
      );
    try {
      expect(await check(port)).toBe(0);
      expect(paths).toEqual(['/healthz']);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await check(port)).toBe(1);
  });

  it('carries the OCI labels, the licence matching package.json', () => {
    const labels = Object.fromEntries(
      [
        ...final
          .filter((l) => /^LABEL /.test(l))
          .join(' ')
          .matchAll(/(org\.opencontainers\.image\.[a-z]+)="([^"]*)"/g),
      ].map((m) => [m[1], m[2]]),
    );
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string };
    expect(labels).toMatchObject({
      'org.opencontainers.image.title': 'rs-bridge',
      'org.opencontainers.image.source': expect.stringMatching(/^https:\/\//),
      'org.opencontainers.image.licenses': pkg.license,
      'org.opencontainers.image.version': '${VERSION}',
      'org.opencontainers.image.revision': '${REVISION}',
    });
  });

  it('runs as a numeric non-root user in the final stage', () => {
    const user = final.filter((l) => /^USER /.test(l)).pop();
    expect(user).toBeDefined();
    const id = user!.split(/\s+/)[1].split(':')[0];
    expect(id).toMatch(/^\d+$/);
    expect(Number(id)).toBeGreaterThan(0);
  });

  it('ships no dev dependencies: the final stage installs nothing and copies pruned modules', () => {
    expect(final.filter((l) => /npm (ci|install|i)\b/.test(l))).toEqual([]);
    const build = stages[stages.length - 2].join('\n');
    expect(build).toMatch(/npm prune --omit=dev/);
    expect(final.join('\n')).toMatch(/COPY --from=build .*\/app\/node_modules/);
  });

  it('sets production mode, exposes the port and starts node dist/main.js without a shell', () => {
    expect(final.join('\n')).toMatch(/NODE_ENV=production/);
    expect(final.some((l) => /^EXPOSE 3000$/.test(l))).toBe(true);
    expect(final.filter((l) => /^(ENTRYPOINT|CMD) /.test(l))).toEqual(['ENTRYPOINT ["node", "dist/main.js"]']);
  });

  it('keeps sources and secrets out of the build context but not what the build needs', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', '.env', 'test']));
    for (const needed of ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json']) {
      expect(ignored).not.toContain(needed);
    }
  });

  it("has an entry point that exists after the build and starts in the image's layout", () => {
    // The image holds /app/package.json, /app/node_modules and /app/dist: rebuild exactly that here.
    const app = mkdtempSync(join(tmpdir(), 'rsb-image-'));
    try {
      const tsc = spawnSync(
        process.execPath,
        [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(app, 'dist'), '--incremental', 'false'],
        {
          cwd: ROOT,
          encoding: 'utf8',
        },
      );
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(existsSync(join(app, 'dist', 'main.js'))).toBe(true);
      copyFileSync(join(ROOT, 'package.json'), join(app, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));

      // Started with a bad configuration it must get as far as validating it, and stop there.
      const run = spawnSync(process.execPath, ['dist/main.js'], {
        cwd: app,
        env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: 'not-a-port' },
        encoding: 'utf8',
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('PORT: expected an integer from 1 to 65535; found "not-a-port"');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});
