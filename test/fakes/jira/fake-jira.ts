import { createHash, createHmac, randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { FakeServer } from '../fake-server';

/**
 * Jira Cloud (with Jira Service Management) on loopback, as Atlassian documents the parts rs-bridge uses:
 * - platform REST v3: `POST/GET /rest/api/3/issue/{key}/comment` with Atlassian Document Format bodies
 *   (a string body or a malformed document is a 400) and the `sd.public.comment` property; the comment
 *   list's `orderBy`, `maxResults`, `expand=properties` and `jsdPublic`; `PUT /rest/api/3/issue/{key}`
 *   (fields, `update.labels` add/remove; an unknown field is a 400 naming it); `GET ...?fields=attachment`;
 *   `POST .../attachments` (multipart field `file`, 403 without `X-Atlassian-Token: no-check`);
 *   transitions, which the workflow may refuse; `GET /rest/api/3/search/jql`; `GET /rest/api/3/myself`;
 * - service desk API: `POST /rest/servicedeskapi/request`;
 * - errors as `{ errorMessages, errors }`, 404 for an issue that does not exist or is not visible, 401
 *   without valid Basic (email:api_token) or Bearer auth, 429 with Retry-After;
 * - admin webhooks signed the WebSub way (X-Hub-Signature), with X-Atlassian-Webhook-Identifier, and
 *   Automation "Send web request" with a custom header.
 */

export interface FakeJiraComment {
  id: string;
  /** The document as posted. */
  body: unknown;
  /** Its text, lines joined by \n, for assertions. */
  text: string;
  internal: boolean;
  created: string;
}

export interface FakeJiraAttachment {
  id: string;
  filename: string;
  mimeType: string;
  size: number;
  sha256: string;
}

export interface FakeJiraIssue {
  id: string;
  key: string;
  fields: Record<string, unknown> & { summary?: string; labels: string[]; status: { name: string } };
  comments: FakeJiraComment[];
  attachments: FakeJiraAttachment[];
}

/** A workflow transition: `from` lists the statuses it leaves (empty: any); `refuse` makes it fail validation. */
export interface FakeTransition {
  id: string;
  name: string;
  to: string;
  from?: string[];
  refuse?: string;
}

const KNOWN_FIELDS = new Set(['summary', 'description', 'labels', 'priority']);

export class FakeJira extends FakeServer {
  readonly email = 'agent@example.com';
  readonly apiToken = 'jira-api-token-0123456789';
  readonly oauthToken = 'jira-oauth-token-0123456789';
  readonly webhookSecret = 'jira-webhook-secret-0123456789';
  readonly serviceDeskId = '4';
  readonly requestTypeId = '17';
  readonly issues = new Map<string, FakeJiraIssue>();
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** Custom fields that exist on the issue screen. */
  readonly customFields = new Set(['customfield_10042', 'customfield_10050', 'customfield_10051', 'customfield_10052']);
  /** Select lists among them, set as Jira documents: `{ value }` or `{ id }` (a list of those for a multi-select), or null. */
  readonly selectFields = new Map([
    ['customfield_10050', 'single'],
    ['customfield_10051', 'single'],
    ['customfield_10052', 'multi'],
  ]);
  readonly transitions: FakeTransition[] = [
    { id: '21', name: 'Resolve', to: 'Resolved', from: ['Waiting for support', 'In progress'] },
    { id: '31', name: 'Waiting for customer', to: 'Waiting for customer' },
    { id: '41', name: 'Close', to: 'Closed', from: ['Resolved'] },
  ];
  autoCreateIssues = false;
  private nextId = 10_000;
  private nextKey = 900;

  createIssue(key: string, fields: Record<string, unknown> = {}): FakeJiraIssue {
    const issue: FakeJiraIssue = {
      id: String(this.nextId++),
      key,
      fields: { summary: 'VPN drops every hour', labels: [], status: { name: 'Waiting for support' }, ...fields },
      comments: [],
      attachments: [],
    };
    this.issues.set(key, issue);
    return issue;
  }

  /** What an admin webhook sends when `label` is added to the issue (or the issue is created with it). */
  webhookBody(issue: FakeJiraIssue, options: { event?: string; addedLabel?: string; timestamp?: number } = {}): Record<string, unknown> {
    const event = options.event ?? 'jira:issue_updated';
    const before = issue.fields.labels.filter((l) => l !== options.addedLabel);
    return {
      timestamp: options.timestamp ?? Date.now(),
      webhookEvent: event,
      issue_event_type_name: event === 'jira:issue_created' ? 'issue_created' : 'issue_updated',
      user: { accountId: '5b10a2844c20165700ede21g', displayName: 'Alex Agent' },
      issue: {
        id: issue.id,
        self: `${this.url}/rest/api/2/issue/${issue.id}`,
        key: issue.key,
        fields: {
          ...issue.fields,
          reporter: { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Casey Customer', emailAddress: 'casey@example.com' },
          priority: { id: '2', name: 'High' },
          project: { id: '10000', key: issue.key.split('-')[0], name: 'IT Help' },
        },
      },
      ...(event === 'jira:issue_updated'
        ? {
            changelog: {
              id: String(this.nextId++),
              items: [
                {
                  field: 'labels',
                  fieldtype: 'jira',
                  fieldId: 'labels',
                  from: null,
                  fromString: before.join(' '),
                  to: null,
                  toString: issue.fields.labels.join(' '),
                },
              ],
            },
          }
        : {}),
    };
  }

  /** Signs a body as Jira does for an admin webhook with a secret. */
  signedRequest(
    body: string,
    identifier: string = randomUUID(),
    secret = this.webhookSecret,
  ): { headers: Record<string, string>; body: string } {
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-atlassian-webhook-identifier': identifier,
        'x-atlassian-webhook-flow': 'Primary',
        'x-hub-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
    };
  }

  async sendWebhook(target: string, body: Record<string, unknown>, identifier?: string): Promise<Response> {
    const request = this.signedRequest(JSON.stringify(body), identifier);
    return fetch(target, { method: 'POST', headers: request.headers, body: request.body });
  }

  /** Automation "Send web request" with "Issue data (Jira format)" and the secret as a custom header. */
  async sendAutomation(target: string, issue: FakeJiraIssue, secret = this.webhookSecret): Promise<Response> {
    const body = JSON.stringify({
      issue: { id: issue.id, key: issue.key, fields: { ...issue.fields, updated: new Date().toISOString() } },
    });
    return fetch(target, { method: 'POST', headers: { 'content-type': 'application/json', 'x-rsb-webhook-secret': secret }, body });
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '', 'http://x');
    const entry = { method: req.method ?? '', path: req.url ?? '', status: 0 };
    this.requests.push(entry);
    const json = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers });
      res.end(body !== undefined ? JSON.stringify(body) : undefined);
    };
    const fail = (status: number, messages: string[], errors: Record<string, string> = {}) =>
      json(status, { errorMessages: messages, errors });

    const auth = req.headers.authorization ?? '';
    const basicOk = auth === `Basic ${Buffer.from(`${this.email}:${this.apiToken}`).toString('base64')}`;
    if (!basicOk && auth !== `Bearer ${this.oauthToken}`) {
      req.resume();
      return fail(401, ['You are not authenticated. Authentication required to perform this operation.']);
    }
    const fault = this.nextFault();
    if (fault) {
      req.resume();
      // Jira Cloud's 429: Retry-After in seconds, and the reason the request was limited.
      return json(
        fault.status,
        { errorMessages: [fault.status === 429 ? 'Rate limit exceeded.' : 'Service unavailable'], errors: {} },
        fault.retryAfter ? { 'retry-after': fault.retryAfter, 'x-ratelimit-reason': 'jira-burst-based' } : {},
      );
    }

    const attachments = /^\/rest\/api\/3\/issue\/([^/]+)\/attachments$/.exec(url.pathname);
    if (attachments && req.method === 'POST') return this.attach(this.issue(attachments[1]), req, json, fail);

    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    if (text) {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return fail(400, ['Unexpected character in the request body: it is not JSON.']);
      }
    }

    if (req.method === 'GET' && url.pathname === '/rest/api/3/myself')
      return json(200, { accountId: '5b10a2844c20165700ede21g', emailAddress: this.email, displayName: 'rs-bridge' });

    if (req.method === 'GET' && url.pathname === '/rest/api/3/search/jql') {
      const label = /^labels\s*=\s*"([^"]+)"$/.exec(url.searchParams.get('jql') ?? '')?.[1];
      if (!label) return fail(400, [`Error in the JQL Query: ${url.searchParams.get('jql')}`]);
      const found = [...this.issues.values()].filter((i) => i.fields.labels.includes(label));
      return json(200, { issues: found.map((i) => ({ id: i.id, key: i.key, fields: { labels: i.fields.labels } })), isLast: true });
    }

    if (req.method === 'POST' && url.pathname === '/rest/servicedeskapi/request') {
      if (body.serviceDeskId !== this.serviceDeskId) return fail(404, ['The service desk does not exist or you do not have access to it.']);
      if (body.requestTypeId !== this.requestTypeId) return fail(400, ['The request type does not exist in this service desk.']);
      const values = (body.requestFieldValues ?? {}) as { summary?: string; description?: string };
      if (!values.summary) return fail(400, [], { summary: 'You must specify a summary of the issue.' });
      const issue = this.createIssue(`SD-${this.nextKey++}`, { summary: values.summary, description: values.description });
      return json(201, { issueId: issue.id, issueKey: issue.key, requestTypeId: this.requestTypeId, serviceDeskId: this.serviceDeskId });
    }

    const match = /^\/rest\/api\/3\/issue\/([^/]+)(\/comment|\/transitions)?$/.exec(url.pathname);
    if (!match) return fail(404, ['Not found']);
    const issue = this.issue(match[1]);
    if (!issue) return fail(404, ['Issue does not exist or you do not have permission to see it.']);
    const sub = match[2];

    if (sub === '/comment' && req.method === 'POST') {
      const problem = adfProblem(body.body);
      if (problem) return fail(400, [], { comment: `Comment body is not valid! ${problem}` });
      const properties = Array.isArray(body.properties) ? (body.properties as { key: string; value?: { internal?: boolean } }[]) : [];
      const internal = properties.some((p) => p.key === 'sd.public.comment' && p.value?.internal === true);
      const comment: FakeJiraComment = {
        id: String(this.nextId++),
        body: body.body,
        text: adfText(body.body),
        internal,
        created: new Date().toISOString(),
      };
      issue.comments.push(comment);
      return json(201, this.commentJson(comment, true));
    }
    if (sub === '/comment' && req.method === 'GET') {
      const newest = url.searchParams.get('orderBy') === '-created';
      const list = newest ? [...issue.comments].reverse() : issue.comments;
      const max = Math.min(Number(url.searchParams.get('maxResults') ?? 5000), 5000);
      const expand = (url.searchParams.get('expand') ?? '').split(',').includes('properties');
      return json(200, {
        startAt: 0,
        maxResults: max,
        total: issue.comments.length,
        comments: list.slice(0, max).map((c) => this.commentJson(c, expand)),
      });
    }
    if (sub === '/transitions' && req.method === 'GET') {
      return json(200, { transitions: this.available(issue).map((t) => ({ id: t.id, name: t.name, to: { name: t.to } })) });
    }
    if (sub === '/transitions' && req.method === 'POST') {
      const id = (body.transition as { id?: string } | undefined)?.id;
      const transition = this.available(issue).find((t) => t.id === id);
      if (!transition) return fail(400, [`Transition id '${id}' is not valid for this issue.`]);
      if (transition.refuse) return fail(400, [transition.refuse]);
      const problem = this.setFields(issue, (body.fields ?? {}) as Record<string, unknown>, {});
      if (problem) return fail(400, [], problem);
      issue.fields.status = { name: transition.to };
      return json(204);
    }
    if (!sub && req.method === 'GET') {
      const wanted = url.searchParams.get('fields');
      const fields: Record<string, unknown> = { ...issue.fields, attachment: issue.attachments.map((a) => ({ ...a, sha256: undefined })) };
      return json(200, {
        id: issue.id,
        key: issue.key,
        fields: wanted ? Object.fromEntries(Object.entries(fields).filter(([k]) => wanted.split(',').includes(k))) : fields,
      });
    }
    if (!sub && req.method === 'PUT') {
      const problem = this.setFields(
        issue,
        (body.fields ?? {}) as Record<string, unknown>,
        (body.update ?? {}) as Record<string, { add?: string; remove?: string }[]>,
      );
      if (problem) return fail(400, [], problem);
      return json(204);
    }
    return fail(405, [`Method ${req.method} is not allowed here`]);
  }

  private issue(key: string): FakeJiraIssue | undefined {
    const found = this.issues.get(decodeURIComponent(key));
    if (found || !this.autoCreateIssues || !/^[A-Z][A-Z0-9_]*-\d+$/.test(key)) return found;
    return this.createIssue(key);
  }

  private available(issue: FakeJiraIssue): FakeTransition[] {
    return this.transitions.filter((t) => !t.from?.length || t.from.includes(issue.fields.status.name));
  }

  /** Fields and `update` operations; an unknown field answers as Jira does, naming it. */
  private setFields(
    issue: FakeJiraIssue,
    fields: Record<string, unknown>,
    update: Record<string, { add?: string; remove?: string }[]>,
  ): Record<string, string> | undefined {
    for (const name of [...Object.keys(fields), ...Object.keys(update)]) {
      if (!KNOWN_FIELDS.has(name) && !this.customFields.has(name))
        return { [name]: `Field '${name}' cannot be set. It is not on the appropriate screen, or unknown.` };
    }
    const option = (v: unknown) =>
      !!v && typeof v === 'object' && ['value', 'id'].some((k) => typeof (v as Record<string, unknown>)[k] === 'string');
    for (const [name, value] of Object.entries(fields)) {
      const select = this.selectFields.get(name);
      const valid = value === null || (select === 'multi' ? Array.isArray(value) && value.every(option) : option(value));
      if (select && !valid) return { [name]: "Could not find valid 'id' or 'value' in the Parent Option object." };
    }
    for (const [name, value] of Object.entries(fields)) issue.fields[name] = value;
    for (const op of update.labels ?? []) {
      if (op.add && !issue.fields.labels.includes(op.add)) issue.fields.labels.push(op.add);
      if (op.remove) issue.fields.labels = issue.fields.labels.filter((l) => l !== op.remove);
    }
    return undefined;
  }

  private commentJson(c: FakeJiraComment, expand: boolean) {
    return {
      id: c.id,
      body: c.body,
      created: c.created,
      jsdPublic: !c.internal,
      ...(expand ? { properties: c.internal ? [{ key: 'sd.public.comment', value: { internal: true } }] : [] } : {}),
    };
  }

  /** multipart/form-data with one `file` part, hashed as it streams in (the trailing boundary held back). */
  private async attach(
    issue: FakeJiraIssue | undefined,
    req: IncomingMessage,
    json: (status: number, body?: unknown) => void,
    fail: (status: number, messages: string[], errors?: Record<string, string>) => void,
  ): Promise<void> {
    if (req.headers['x-atlassian-token'] !== 'no-check') {
      req.resume();
      return fail(403, ['XSRF check failed']);
    }
    if (!issue) {
      req.resume();
      return fail(404, ['Issue does not exist or you do not have permission to see it.']);
    }
    const boundary = /boundary=([^;]+)/.exec(String(req.headers['content-type'] ?? ''))?.[1];
    if (!boundary || !String(req.headers['content-type']).startsWith('multipart/form-data')) {
      req.resume();
      return fail(415, ['The request is not multipart/form-data.']);
    }
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    let head = Buffer.alloc(0);
    let headers: string | undefined;
    let held = Buffer.alloc(0);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of req) {
      let data = chunk as Buffer;
      if (headers === undefined) {
        head = Buffer.concat([head, data]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) continue;
        headers = head.subarray(0, end).toString('utf8');
        data = head.subarray(end + 4);
      }
      held = Buffer.concat([held, data]);
      if (held.length > tail.length) {
        const pass = held.subarray(0, held.length - tail.length);
        hash.update(pass);
        size += pass.length;
        held = Buffer.from(held.subarray(held.length - tail.length));
      }
    }
    const name = headers ? /name="([^"]*)"/.exec(headers)?.[1] : undefined;
    const filename = headers ? /filename="([^"]*)"/.exec(headers)?.[1] : undefined;
    if (!headers || name !== 'file' || !filename || !held.equals(tail))
      return fail(400, ['The multipart body must hold one part named "file" with a filename.']);
    const attachment: FakeJiraAttachment = {
      id: String(this.nextId++),
      filename,
      mimeType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? 'application/octet-stream',
      size,
      sha256: hash.digest('hex'),
    };
    issue.attachments.push(attachment);
    json(200, [{ id: attachment.id, filename, size, mimeType: attachment.mimeType }]);
  }
}

/** What Jira's document validation says of a body, or nothing when it is a valid document. */
export function adfProblem(doc: unknown): string | undefined {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return 'The body must be an Atlassian Document Format document.';
  const d = doc as { type?: unknown; version?: unknown; content?: unknown };
  if (d.type !== 'doc' || d.version !== 1 || !Array.isArray(d.content)) return 'A document is { type: "doc", version: 1, content: [...] }.';
  for (const block of d.content as { type?: string; content?: unknown }[]) {
    if (block?.type !== 'paragraph') return `Unsupported block node "${block?.type}".`;
    if (block.content !== undefined && !Array.isArray(block.content)) return 'paragraph.content must be a list.';
    for (const inline of (block.content ?? []) as { type?: string; text?: unknown }[]) {
      if (inline?.type === 'hardBreak') continue;
      if (inline?.type !== 'text') return `Unsupported inline node "${inline?.type}".`;
      if (typeof inline.text !== 'string' || inline.text.length === 0) return 'A text node must hold non-empty text.';
    }
  }
  return undefined;
}

function adfText(doc: unknown): string {
  const d = doc as { content?: { content?: { type: string; text?: string }[] }[] };
  return (d.content ?? []).map((p) => (p.content ?? []).map((n) => (n.type === 'hardBreak' ? '\n' : (n.text ?? ''))).join('')).join('\n\n');
}
