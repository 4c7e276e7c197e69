import { Inject, Injectable } from '@nestjs/common';
import { BeyondTrustError } from '../beyondtrust/beyondtrust.errors';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { RedisService } from '../redis/redis.service';
import { TicketsService } from '../tickets/tickets.service';
import { UpscopeService } from '../upscope/upscope.service';

export interface Check {
  area: string;
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a ✗. */
  fix?: string;
}

const field = (info: string, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Every connection and permission rs-bridge depends on, checked for real: Redis and its settings, the
 * appliance (token, API account permissions, health), each configured ticket system (credentials,
 * table, the fields the rules file writes) and Upscope. `cheap` keeps to what a probe can afford.
 */
@Injectable()
export class DoctorService {
  constructor(
    private readonly redis: RedisService,
    private readonly beyondtrust: BeyondTrustService,
    private readonly tickets: TicketsService,
    private readonly upscope: UpscopeService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(options: { cheap?: boolean } = {}): Promise<Check[]> {
    const checks = await this.redisChecks();
    if (options.cheap) return checks;
    return [
      ...checks,
      ...(await this.applianceChecks()),
      ...(await this.zendeskChecks()),
      ...(await this.servicenowChecks()),
      ...(await this.jiraChecks()),
      ...(await this.upscopeChecks()),
    ];
  }

  async redisChecks(): Promise<Check[]> {
    const area = 'Redis';
    try {
      await this.redis.connection.ping();
    } catch (error) {
      return [
        {
          area,
          name: 'reachable',
          ok: false,
          detail: message(error),
          fix: 'Check REDIS_URL and that Redis accepts connections from here.',
        },
      ];
    }
    const info = await this.redis.connection.info();
    const aof = field(info, 'aof_enabled');
    const policy = field(info, 'maxmemory_policy');
    return [
      { area, name: 'reachable', ok: true, detail: `Redis ${field(info, 'redis_version') ?? ''}`.trim() },
      {
        area,
        name: 'AOF persistence',
        ok: aof === '1',
        detail: aof === '1' ? 'appendonly yes' : 'appendonly no',
        fix: 'Set appendonly yes (queued work and idempotency records must survive a restart).',
      },
      {
        area,
        name: 'eviction policy',
        ok: policy === 'noeviction',
        detail: `maxmemory-policy ${policy ?? 'unknown'}`,
        fix: 'Set maxmemory-policy noeviction (an evicted job or record is lost or repeated work).',
      },
    ];
  }

  private async applianceChecks(): Promise<Check[]> {
    const area = 'BeyondTrust';
    if (!this.beyondtrust.configured)
      return [{ area, name: 'configured', ok: true, detail: 'not configured (BT_SITE_URL unset): skipped' }];
    const checks: Check[] = [];
    let permissions: Record<string, string>;
    try {
      const info = await this.beyondtrust.command.getApiInfo();
      permissions = info.permissions;
      checks.push({
        area,
        name: 'API token',
        ok: true,
        detail: `API ${info.apiVersion}${info.companyName ? ` at ${info.companyName}` : ''}`,
      });
    } catch (error) {
      const auth = error instanceof BeyondTrustError && [401, 403].includes(error.status ?? 0);
      return [
        {
          area,
          name: 'API token',
          ok: false,
          detail: message(error),
          fix: auth
            ? 'Check BT_CLIENT_ID and BT_CLIENT_SECRET (/login > Management > API Configuration; a regenerated secret invalidates the old one).'
            : 'Check BT_SITE_URL and that the appliance is reachable from here.',
        },
      ];
    }
    const permission = (name: string, key: string, wanted: string, fix: string): Check => ({
      area,
      name,
      ok: permissions[key] === wanted,
      detail: `${key} ${permissions[key] ?? 'absent'}`,
      fix,
    });
    checks.push(
      permission(
        'Command API',
        'perm_command',
        'full_access',
        'Give the API account "Full Access" to the Command API (needed for session keys and chat).',
      ),
    );
    checks.push(
      permission(
        'support session reports',
        'perm_reporting_support',
        '1',
        'Check "Allow Access to Support Session Reports and Recordings" for the API account (needed to write sessions back to tickets).',
      ),
    );
    if (this.config.env.BT_REALTIME_ENABLED)
      checks.push(
        permission(
          'real-time state',
          'perm_real_time_state',
          '1',
          'Allow the API account access to the Real-Time State API, or set BT_REALTIME_ENABLED=false.',
        ),
      );
    try {
      const health = await this.beyondtrust.command.checkHealth();
      checks.push({
        area,
        name: 'appliance health',
        ok: health.success,
        detail: health.success ? `${health.appliance} ${health.version}` : (health.errorMessage ?? 'unhealthy'),
        fix: 'See /appliance > Status on the appliance.',
      });
    } catch (error) {
      checks.push({ area, name: 'appliance health', ok: false, detail: message(error), fix: 'See /appliance > Status on the appliance.' });
    }
    return checks;
  }

  private async zendeskChecks(): Promise<Check[]> {
    const area = 'Zendesk';
    const zendesk = this.tickets.zendesk;
    if (!zendesk) return [];
    try {
      const me = await zendesk.me();
      const checks: Check[] = [
        { area, name: 'credentials', ok: true, detail: `signed in as ${me.email ?? me.id} (${me.role ?? 'role unknown'})` },
      ];
      for (const id of Object.keys(this.config.rules.writeBack.zendesk.customFields ?? {})) {
        const exists = await zendesk.ticketFieldExists(id);
        checks.push({
          area,
          name: `ticket field ${id}`,
          ok: exists,
          detail: exists ? 'exists' : 'not found',
          fix: `The rules file writes ticket field ${id} (writeBack.zendesk.customFields); create it in Zendesk or fix the id.`,
        });
      }
      return checks;
    } catch (error) {
      return [
        {
          area,
          name: 'credentials',
          ok: false,
          detail: message(error),
          fix: 'Check ZENDESK_BASE_URL, ZENDESK_EMAIL + ZENDESK_API_TOKEN or ZENDESK_OAUTH_TOKEN.',
        },
      ];
    }
  }

  private async jiraChecks(): Promise<Check[]> {
    const jira = this.tickets.jira;
    if (!jira) return [];
    try {
      const me = await jira.myself();
      return [{ area: 'Jira', name: 'credentials', ok: true, detail: `signed in as ${me.emailAddress ?? me.accountId}` }];
    } catch (error) {
      return [
        {
          area: 'Jira',
          name: 'credentials',
          ok: false,
          detail: message(error),
          fix: 'Check JIRA_BASE_URL, JIRA_EMAIL + JIRA_API_TOKEN or JIRA_OAUTH_TOKEN.',
        },
      ];
    }
  }

  private async servicenowChecks(): Promise<Check[]> {
    const area = 'ServiceNow';
    const servicenow = this.tickets.servicenow;
    if (!servicenow) return [];
    const table = this.config.env.SERVICENOW_TABLE;
    try {
      await servicenow.tableReadable();
    } catch (error) {
      return [
        {
          area,
          name: `table ${table}`,
          ok: false,
          detail: message(error),
          fix: 'Check SERVICENOW_INSTANCE_URL, the credentials, SERVICENOW_TABLE and that the user has the itil (or equivalent) role.',
        },
      ];
    }
    const checks: Check[] = [{ area, name: `table ${table}`, ok: true, detail: 'readable with these credentials' }];
    for (const name of Object.keys(this.config.rules.writeBack.servicenow.fields ?? {})) {
      const exists = await servicenow.fieldExists(name).catch(() => false);
      checks.push({
        area,
        name: `field ${name}`,
        ok: exists,
        detail: exists ? 'exists' : 'not found',
        fix: `The rules file writes ${table}.${name} (writeBack.servicenow.fields); create the field or fix the name.`,
      });
    }
    return checks;
  }

  private async upscopeChecks(): Promise<Check[]> {
    const area = 'Upscope';
    if (!this.upscope.client) return [];
    try {
      const visitors = await this.upscope.client.latest();
      return [{ area, name: 'REST API', ok: true, detail: `${visitors.length} visitor(s) online` }];
    } catch (error) {
      return [
        { area, name: 'REST API', ok: false, detail: message(error), fix: 'Check UPSCOPE_BASE_URL (without /api) and UPSCOPE_REST_KEY.' },
      ];
    }
  }
}

/** The checks as a table of ✓ and ✗, each ✗ followed by its fix. */
export function formatChecks(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => `${c.area} ${c.name}`.length));
  const lines = checks.map((c) => {
    const line = `${c.ok ? '✓' : '✗'} ${`${c.area} ${c.name}`.padEnd(width)}  ${c.detail}`;
    return c.ok || !c.fix ? line : `${line}\n    fix: ${c.fix}`;
  });
  const failed = checks.filter((c) => !c.ok).length;
  return `${lines.join('\n')}\n\n${failed === 0 ? 'All checks passed.' : `${failed} check(s) failed.`}\n`;
}
