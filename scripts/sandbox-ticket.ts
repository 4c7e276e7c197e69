/**
 * `npm run sandbox:ticket [-- <system>] [ticket]` (system: zendesk, the default, servicenow, jira or generic):
 * sends a signed webhook to the running sandbox as that system would, prints what rs-bridge wrote on the
 * (fake) ticket, then has the fake appliance play and end the session and prints the transcript and
 * recording that land on the ticket. A system is one entry of SYSTEMS below.
 */
import { createHash } from 'node:crypto';
import { standardWebhookHeaders } from '../src/common/standard-webhooks';
import { FakeJira } from '../test/fakes/jira/fake-jira';
import { FakeServiceNow } from '../test/fakes/servicenow/fake-servicenow';
import { FakeZendesk } from '../test/fakes/zendesk/fake-zendesk';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const BRIDGE = env('SANDBOX_URL', 'http://127.0.0.1:3000');
const TOKEN = env('SANDBOX_API_TOKEN', 'sandbox-token-not-for-production');

/** One thing written on the ticket, as the ticket system shows it. */
interface Written {
  heading: string;
  body: string;
  files?: string[];
}

interface TicketSystem {
  /** Sends the system's webhook for a new ticket; answers the ticket id rs-bridge knows it by. */
  request(number: string): Promise<{ ticketId: string; response: Response }>;
  /** Everything written on the ticket so far, oldest first. */
  written(ticketId: string): Promise<Written[]>;
}

const SYSTEMS: Record<string, () => TicketSystem> = {
  zendesk: () => {
    const zendesk = new FakeZendesk();
    const url = env('SANDBOX_ZENDESK_URL', 'http://127.0.0.1:3102');
    const auth = `Basic ${Buffer.from(`${zendesk.email}/token:${zendesk.apiToken}`).toString('base64')}`;
    return {
      request: async (id) => ({
        ticketId: id,
        response: await zendesk.sendWebhook(`${BRIDGE}/webhooks/zendesk`, {
          action: 'session.requested',
          ticket: {
            id,
            subject: 'Sandbox: printer on fire',
            priority: 'high',
            tags: 'remote_support',
            requester: { name: 'Casey Customer', email: 'casey@example.com' },
          },
        }),
      }),
      written: async (id) => {
        const res = await fetch(`${url}/api/v2/tickets/${id}/comments.json`, { headers: { authorization: auth } });
        if (!res.ok) return [];
        const body = (await res.json()) as {
          comments: { body: string; public: boolean; attachments: { file_name: string; size: number }[] }[];
        };
        return body.comments.map((c) => ({
          heading: c.public ? 'public reply' : 'internal note',
          body: c.body,
          files: c.attachments.map((a) => `${a.file_name} (${a.size} bytes)`),
        }));
      },
    };
  },
  servicenow: () => {
    const servicenow = new FakeServiceNow();
    const url = env('SANDBOX_SERVICENOW_URL', 'http://127.0.0.1:3104');
    const auth = { authorization: `Basic ${Buffer.from(`${servicenow.username}:${servicenow.password}`).toString('base64')}` };
    const journal = async (sysId: string, element: string) => {
      const res = await fetch(`${url}/api/now/table/sys_journal_field?sysparm_query=element_id=${sysId}^element=${element}`, {
        headers: auth,
      });
      return ((await res.json()) as { result: { value: string }[] }).result.map((e) => e.value);
    };
    return {
      request: async () => {
        // An agent opens an incident (Table API), then its Business Rule asks rs-bridge for a session key.
        const created = await fetch(`${url}/api/now/table/incident`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ short_description: 'Sandbox: laptop will not boot' }),
        });
        const record = ((await created.json()) as { result: { sys_id: string; number: string } }).result;
        const full = { ...record, comments: [], work_notes: [], fields: {}, attachments: [] };
        return {
          ticketId: record.sys_id,
          response: await servicenow.sendBusinessRule(`${BRIDGE}/webhooks/servicenow`, full, {}, 'signed'),
        };
      },
      written: async (sysId) => {
        const [comments, notes] = await Promise.all([journal(sysId, 'comments'), journal(sysId, 'work_notes')]);
        const files = await fetch(`${url}/api/now/attachment?sysparm_query=table_sys_id=${sysId}`, { headers: auth });
        const attached = ((await files.json()) as { result: { file_name: string; size_bytes: string }[] }).result;
        return [
          ...comments.map((body) => ({ heading: 'additional comment', body })),
          ...notes.map((body, i) => ({
            heading: 'work note',
            body,
            files: i === notes.length - 1 ? attached.map((a) => `${a.file_name} (${a.size_bytes} bytes)`) : [],
          })),
        ];
      },
    };
  },
  jira: () => {
    // Signs like Jira's admin webhook; the sandbox's fake Jira creates the issue when rs-bridge first writes to it.
    const signer = new FakeJira();
    const url = env('SANDBOX_JIRA_URL', 'http://127.0.0.1:3106');
    const auth = { authorization: `Basic ${Buffer.from(`${signer.email}:${signer.apiToken}`).toString('base64')}` };
    return {
      request: async (number) => {
        const key = /^\d+$/.test(number) ? `SD-${number}` : number;
        const issue = signer.createIssue(key, { summary: 'Sandbox: VPN drops every hour', labels: ['remote_support'] });
        const body = signer.webhookBody(issue, { addedLabel: 'remote_support' });
        return { ticketId: key, response: await signer.sendWebhook(`${BRIDGE}/webhooks/jira`, body) };
      },
      written: async (key) => {
        const res = await fetch(`${url}/rest/api/3/issue/${encodeURIComponent(key)}/comment?expand=properties`, { headers: auth });
        if (!res.ok) return [];
        const body = (await res.json()) as { comments: { body: { content: { content?: { text?: string }[] }[] }; jsdPublic: boolean }[] };
        return body.comments.map((c) => ({
          heading: c.jsdPublic ? 'public reply' : 'internal comment',
          body: c.body.content.map((p) => (p.content ?? []).map((n) => n.text ?? '\n').join('')).join('\n\n'),
        }));
      },
    };
  },
  generic: () => {
    const receiver = env('SANDBOX_RECEIVER_URL', 'http://127.0.0.1:3105');
    const secret = env('GENERIC_WEBHOOK_SECRET', `whsec_${Buffer.from('sandbox-generic-secret-not-for-production').toString('base64')}`);
    return {
      request: async (id) => {
        const body = JSON.stringify({
          action: 'session.requested',
          ticket: { id, subject: 'Sandbox: printer on fire', requester: { name: 'Casey Customer', email: 'casey@example.com' } },
          callbackUrl: `${receiver}/callback`,
        });
        const deliveryId = createHash('sha256').update(body).digest('hex').slice(0, 32);
        const headers = { 'content-type': 'application/json', ...standardWebhookHeaders(secret, deliveryId, body) };
        return { ticketId: id, response: await fetch(`${BRIDGE}/webhooks/generic`, { method: 'POST', headers, body }) };
      },
      written: async (id) => {
        const res = await fetch(`${receiver}/tickets/${encodeURIComponent(id)}`);
        const body = (await res.json()) as {
          updates: { type: string; step?: string; comment?: { body: string }; text?: string }[];
        };
        return body.updates.map((u) => ({ heading: `${u.type}${u.step ? ` (${u.step})` : ''}`, body: u.comment?.body ?? u.text ?? '' }));
      },
    };
  },
};

/** The items once there are at least `min` and a second passed with no more: how many a write makes varies by system. */
async function settled<T>(read: () => Promise<T[]>, min: number, tries = 100): Promise<T[] | undefined> {
  const first = await until(async () => {
    const items = await read();
    return items.length >= min ? items : undefined;
  }, tries);
  if (!first) return undefined;
  for (let items = first; ;) {
    await new Promise((r) => setTimeout(r, 1000));
    const again = await read().catch(() => items);
    if (again.length === items.length) return again;
    items = again;
  }
}

async function until<T>(probe: () => Promise<T | undefined>, tries = 100): Promise<T | undefined> {
  for (let i = 0; i < tries; i += 1) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

const show = (ticketId: string, items: Written[]) => {
  for (const w of items) {
    console.log(`\n--- ${w.heading} on ticket ${ticketId} ---\n${w.body}`);
    for (const f of w.files ?? []) console.log(`    attached: ${f}`);
  }
};

async function main(): Promise<number> {
  const [first, second] = process.argv.slice(2);
  const name = first && first in SYSTEMS ? first : 'zendesk';
  const number = (first && first in SYSTEMS ? second : first) ?? String(Math.floor(1000 + Math.random() * 9000));
  if (first && !(first in SYSTEMS) && !/^\d+$/.test(first)) {
    console.error(`Unknown system ${first}; one of: ${Object.keys(SYSTEMS).join(', ')}`);
    return 2;
  }
  const system = SYSTEMS[name]();
  const { ticketId, response } = await system.request(number);
  console.log(`POST ${name} webhook -> ${response.status} ${await response.text()}`);
  // Zendesk's key is one comment (its note waits for the session's note); other systems write two.
  const keyed = await settled(() => system.written(ticketId), 1, 50);
  if (!keyed) {
    console.log(`Nothing on ticket ${ticketId} yet: see the sandbox's log.`);
    return 1;
  }
  show(ticketId, keyed);

  // The customer uses the key: the fake appliance plays the session for the key's external key and ends it.
  const links = await fetch(`${BRIDGE}/api/v1/admin/links/tickets/${name}/${encodeURIComponent(ticketId)}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const externalKey = ((await links.json()) as { links?: { externalKey: string }[] }).links?.[0]?.externalKey ?? ticketId;
  const appliance = env('SANDBOX_APPLIANCE_URL', 'http://127.0.0.1:3101');
  const played = await fetch(`${appliance}/__fake/play-session?external_key=${encodeURIComponent(externalKey)}`, { method: 'POST' });
  if (!played.ok) {
    console.log(`\n(the appliance is not the sandbox's fake: end a session with external key ${externalKey} there to see the transcript)`);
    return 0;
  }
  const { lsid } = (await played.json()) as { lsid: string };
  console.log(`\nThe fake appliance played and ended session ${lsid} (external key ${externalKey}); waiting for its transcript...`);
  const ended = await settled(() => system.written(ticketId), keyed.length + 1);
  if (!ended) {
    console.log(`The transcript of ${lsid} has not reached ticket ${ticketId} yet: see the sandbox's log.`);
    return 1;
  }
  show(ticketId, ended.slice(keyed.length));
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(`sandbox:ticket: ${String(error)}`);
    process.exitCode = 1;
  },
);
