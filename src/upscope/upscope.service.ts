import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { UpscopeClient, UpscopeError, UpscopeVisitor } from './upscope.client';

export interface VisitorQuery {
  visitorId?: string;
  lookupCode?: string;
  email?: string;
  query?: string;
}

/** The injectable door to Upscope (absent when UPSCOPE_BASE_URL is unset). */
@Injectable()
export class UpscopeService {
  readonly client?: UpscopeClient;
  readonly permissions: Record<string, boolean>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const env = config.env;
    if (env.UPSCOPE_BASE_URL)
      this.client = new UpscopeClient({
        baseUrl: env.UPSCOPE_BASE_URL,
        restKey: env.UPSCOPE_REST_KEY!,
        licenseToken: env.UPSCOPE_LICENSE_TOKEN!,
      });
    this.permissions = Object.fromEntries(env.UPSCOPE_PERMISSIONS.map((pair) => pair.split('=')).map(([k, v]) => [k, v === 'true']));
  }

  get configured(): boolean {
    return this.client !== undefined;
  }

  private get upscope(): UpscopeClient {
    if (!this.client) throw new UpscopeError('co-browsing is not configured (UPSCOPE_BASE_URL)', 'refused', false);
    return this.client;
  }

  /** The most specific criterion wins: short id, then lookup code, then email, then a free search. */
  async find(query: VisitorQuery): Promise<{ visitor?: UpscopeVisitor; searched: string }> {
    if (query.visitorId) return { visitor: await this.upscope.visitor(query.visitorId), searched: `visitor id ${query.visitorId}` };
    const [q, searched] = query.lookupCode
      ? [query.lookupCode, `lookup code ${query.lookupCode}`]
      : query.email
        ? [query.email, `email ${query.email}`]
        : query.query
          ? [query.query, `"${query.query}"`]
          : [undefined, 'nothing to search for (no email, lookup code or visitor id)'];
    if (!q) return { searched };
    const found = await this.upscope.search(q);
    return { visitor: found.find((v) => v.online !== false) ?? found[0], searched };
  }

  watchUrl(
    visitor: UpscopeVisitor,
    agent: { id?: string; name?: string },
    metadata: Record<string, unknown> = {},
    permissions: Record<string, boolean> = {},
  ): Promise<string> {
    return this.upscope.watchUrl(visitor.shortId, {
      agent: { id: agent.id || 'rs-bridge', name: agent.name || this.config.env.UPSCOPE_DEFAULT_AGENT_NAME },
      permissions: { ...this.permissions, ...permissions },
      metadata,
    });
  }
}
