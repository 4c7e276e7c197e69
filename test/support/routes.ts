import type { RouteOptions } from 'fastify';
import type { CreateAppOptions } from '../../src/bootstrap';
import { RunningApp, startApp } from './app';

export interface RegisteredRoute {
  method: string;
  /** Fastify's pattern: /api/v1/chat/escalations/:id, /admin/queues/static/*. */
  url: string;
}

/**
 * The real app, started as startApp does, with every route it registered, as Fastify saw them (Nest
 * controllers, plugins, routes added by hand): a test that walks them cannot miss a route added later.
 * HEAD routes Fastify adds for each GET are left out.
 */
export async function startAppWithRoutes(
  env: Record<string, string> = {},
  extra: CreateAppOptions = {},
): Promise<{ sut: RunningApp; routes: RegisteredRoute[] }> {
  const routes: RegisteredRoute[] = [];
  const seen = new Set<string>();
  const onRoute = (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      const key = `${method} ${route.url}`;
      if (method === 'HEAD' || seen.has(key)) continue;
      seen.add(key);
      routes.push({ method, url: route.url });
    }
  };
  const sut = await startApp(env, { ...extra, onRoute });
  return { sut, routes };
}
