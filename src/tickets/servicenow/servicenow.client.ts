import axios from 'axios';
import { ticketSystemError } from '../http-errors';
import { TicketUpdate, TicketWriter } from '../ticket-writer';

export interface ServiceNowClientOptions {
  instanceUrl: string;
  table: string;
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  timeoutMs?: number;
}

/**
 * Writes to ServiceNow records through the Table API (`PATCH /api/now/table/{table}/{sys_id}`):
 * `comments` are visible to the caller, `work_notes` are internal. Basic auth, or an OAuth token from
 * `/oauth_token.do` (client credentials), renewed before it expires and after a 401.
 */
export class ServiceNowClient implements TicketWriter {
  readonly system = 'servicenow';
  private token?: { value: string; expiresAt: number };

  constructor(private readonly options: ServiceNowClientOptions) {}

  private get base(): string {
    return this.options.instanceUrl.replace(/\/$/, '');
  }

  async update(sysId: string, update: TicketUpdate): Promise<void> {
    const body: Record<string, string> = { ...update.fields };
    if (update.comment) body[update.comment.public ? 'comments' : 'work_notes'] = update.comment.body;
    if (!Object.keys(body).length) return;
    const url = `${this.base}/api/now/table/${encodeURIComponent(this.options.table)}/${encodeURIComponent(sysId)}`;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      let response;
      try {
        response = await axios.patch(url, body, {
          headers: { authorization: await this.authorization(), accept: 'application/json', 'content-type': 'application/json' },
          timeout: this.options.timeoutMs ?? 30_000,
          validateStatus: () => true,
        });
      } catch (error) {
        throw ticketSystemError(this.system, undefined, error as Error);
      }
      if (response.status === 401 && this.options.clientId && attempt === 0) {
        this.token = undefined;
        continue;
      }
      if (response.status < 200 || response.status >= 300) throw ticketSystemError(this.system, response);
      return;
    }
  }

  private async authorization(): Promise<string> {
    const o = this.options;
    if (!o.clientId) return `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
    if (this.token && this.token.expiresAt > Date.now() + 60_000) return `Bearer ${this.token.value}`;
    let response;
    try {
      response = await axios.post(
        `${this.base}/oauth_token.do`,
        new URLSearchParams({ grant_type: 'client_credentials', client_id: o.clientId, client_secret: o.clientSecret ?? '' }).toString(),
        { headers: { 'content-type': 'application/x-www-form-urlencoded' }, timeout: o.timeoutMs ?? 30_000, validateStatus: () => true },
      );
    } catch (error) {
      throw ticketSystemError(this.system, undefined, error as Error);
    }
    const data = response.data as { access_token?: string; expires_in?: number };
    if (response.status !== 200 || !data?.access_token) throw ticketSystemError(this.system, response);
    this.token = { value: data.access_token, expiresAt: Date.now() + Number(data.expires_in ?? 1800) * 1000 };
    return `Bearer ${this.token.value}`;
  }
}
