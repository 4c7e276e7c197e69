import { DynamicModule, Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { request as httpRequest, Agent } from 'node:http';
import { AppModuleOptions } from '../../src/app.module';
import { RunningApp, startApp } from './app';

/** One route as the app registered it with Fastify: the method and the template (`/api/v1/sessions/:lsid/resync`). */
export interface AppRoute {
  method: string;
  url: string;
}

@Module({})
class RouteRecorderModule {}

/**
 * A module that records every route the application registers, read from Fastify's `onRoute` hook:
 * Nest controllers, the OpenAPI pages and Bull Board alike. Its provider runs while Nest instantiates
 * the modules, before any route exists, so nothing registered later escapes it.
 */
export function routeRecorder(): { module: DynamicModule; routes: AppRoute[] } {
  const routes: AppRoute[] = [];
  const module: DynamicModule = {
    module: RouteRecorderModule,
    providers: [
      {
        provide: 'ROUTE_RECORDER',
        inject: [HttpAdapterHost],
        useFactory: (host: HttpAdapterHost) => {
          host.httpAdapter.getInstance<FastifyInstance>().addHook('onRoute', (route: RouteOptions) => {
            for (const method of [route.method].flat()) routes.push({ method: String(method).toUpperCase(), url: route.url });
          });
          return routes;
        },
      },
    ],
  };
  return { module, routes };
}

/** Boots the real app (see startApp) and returns, with it, every route it registered. */
export async function startAppWithRoutes(
  env: Record<string, string> = {},
  extra: AppModuleOptions = {},
): Promise<RunningApp & { routes: AppRoute[] }> {
  const recorder = routeRecorder();
  const running = await startApp(env, { ...extra, apiModules: [...(extra.apiModules ?? []), recorder.module] });
  return Object.assign(running, { routes: recorder.routes });
}

/** Values put into a template's parameters; anything not listed becomes `x1`. */
export const SAMPLE_PARAMS: Record<string, string> = {
  system: 'zendesk',
  ticketId: '1042',
  lsid: 'c2f1e0d9b8a7',
  queue: 'ticket-events',
  jobId: '1',
  id: 'esc-1',
  file: 'swagger-ui.css',
};

/** A concrete path for a route template: `:name` parameters and `*` wildcards filled with sample values. */
export function concretePath(template: string, params: Record<string, string> = SAMPLE_PARAMS): string {
  return template
    .split('/')
    .map((segment) => {
      if (segment === '*') return 'x1';
      return segment.replace(/^:(\w+)\??$/, (_all, name: string) => params[name] ?? 'x1');
    })
    .join('/');
}

const pct = (ch: string, upper = false) => {
  const hex = ch.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? hex.toUpperCase() : hex}`;
};

/**
 * Other spellings of one path that a router, a proxy or a guard might read differently: each segment
 * percent-encoded (a character, all of them, in either hex case), its case changed, dot segments and
 * doubled slashes before it, an encoded slash after it, and trailing slashes, semicolons and queries.
 */
export function spellings(path: string): string[] {
  const segments = path.split('/').slice(1);
  const join = (parts: string[]) => `/${parts.join('/')}`;
  const out = new Set<string>();
  segments.forEach((segment, i) => {
    if (!segment) return;
    const withSegment = (replacement: string) => join([...segments.slice(0, i), replacement, ...segments.slice(i + 1)]);
    const before = (insert: string) => join([...segments.slice(0, i), insert, ...segments.slice(i)]);
    const letters = [...segment];
    out.add(withSegment(pct(letters[0]) + letters.slice(1).join('')));
    out.add(withSegment(pct(letters[0], true) + letters.slice(1).join('')));
    out.add(withSegment(letters.slice(0, -1).join('') + pct(letters[letters.length - 1])));
    out.add(withSegment(letters.map((ch) => pct(ch)).join('')));
    out.add(withSegment(segment.toUpperCase()));
    out.add(withSegment(segment.charAt(0).toUpperCase() + segment.slice(1)));
    out.add(before('x/..'));
    out.add(before('.'));
    out.add(before('x/%2e%2e'));
    out.add(before('%2E'));
    out.add(before(''));
    if (i < segments.length - 1) out.add(join([...segments.slice(0, i), `${segment}%2F${segments[i + 1]}`, ...segments.slice(i + 2)]));
    if (i < segments.length - 1) out.add(join([...segments.slice(0, i), `${segment}\\${segments[i + 1]}`, ...segments.slice(i + 2)]));
  });
  out.add(`/${path}`);
  out.add(`${path}/`);
  out.add(`${path}//`);
  out.add(`${path}/.`);
  out.add(`${path};x=1`);
  out.add(`${path}%20`);
  out.add(`${path}%00`);
  out.add(`${path}?x=1`);
  out.add(`${path}#x`);
  out.delete(path);
  return [...out];
}

export interface RawAnswer {
  status: number;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/**
 * Sends a request with the path exactly as given: fetch() and URL would normalise dot segments and
 * some escapes before they ever leave the process, which is the point of the walk.
 */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port: Number(port),
        method,
        path,
        agent,
        headers: {
          ...(options.body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Closes the keep-alive sockets rawRequest opened (call in afterAll). */
export const closeRawRequests = (): void => agent.destroy();
