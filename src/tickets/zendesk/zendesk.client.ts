import axios from 'axios';
import { ticketSystemError } from '../http-errors';
import { TicketUpdate, TicketWriter } from '../ticket-writer';

export interface ZendeskClientOptions {
  baseUrl: string;
  email?: string;
  apiToken?: string;
  oauthToken?: string;
  timeoutMs?: number;
}

/** Writes to Zendesk tickets through the Tickets API (`PUT /api/v2/tickets/{id}.json`). */
export class ZendeskClient implements TicketWriter {
  readonly system = 'zendesk';
  private readonly authorization: string;

  constructor(private readonly options: ZendeskClientOptions) {
    this.authorization = options.oauthToken
      ? `Bearer ${options.oauthToken}`
      : `Basic ${Buffer.from(`${options.email}/token:${options.apiToken}`).toString('base64')}`;
  }

  async update(ticketId: string, update: TicketUpdate): Promise<void> {
    const ticket: Record<string, unknown> = {};
    if (update.comment) ticket.comment = { body: update.comment.body, public: update.comment.public };
    if (update.fields && Object.keys(update.fields).length) {
      ticket.custom_fields = Object.entries(update.fields).map(([id, value]) => ({ id: Number(id), value }));
    }
    // additional_tags adds; `tags` would replace the ticket's tags.
    if (update.addTags?.length) ticket.additional_tags = update.addTags;
    let response;
    try {
      response = await axios.put(
        `${this.options.baseUrl.replace(/\/$/, '')}/api/v2/tickets/${encodeURIComponent(ticketId)}.json`,
        { ticket },
        {
          headers: { authorization: this.authorization, 'content-type': 'application/json' },
          timeout: this.options.timeoutMs ?? 30_000,
          validateStatus: () => true,
        },
      );
    } catch (error) {
      throw ticketSystemError(this.system, undefined, error as Error);
    }
    if (response.status < 200 || response.status >= 300) throw ticketSystemError(this.system, response);
  }
}
