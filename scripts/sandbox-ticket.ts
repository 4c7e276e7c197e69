/**
 * `npm run sandbox:ticket [ticket id]`: sends a signed Zendesk webhook to the running sandbox, as Zendesk
 * would, then prints what rs-bridge wrote on the (fake) ticket. `npm run sandbox:ticket -- jira [key]`
 * does the same with a Jira issue labelled remote_support.
 */
import { FakeJira } from '../test/fakes/jira/fake-jira';
import { FakeZendesk } from '../test/fakes/zendesk/fake-zendesk';

async function main(): Promise<void> {
  if (process.argv[2] === 'jira') return jira(process.argv[3] ?? `SD-${Math.floor(1000 + Math.random() * 9000)}`);
  const bridge = process.env.SANDBOX_URL ?? 'http://127.0.0.1:3000';
  const zendeskUrl = process.env.SANDBOX_ZENDESK_URL ?? 'http://127.0.0.1:3102';
  const id = process.argv[2] ?? String(Math.floor(1000 + Math.random() * 9000));
  const signer = new FakeZendesk();
  const res = await signer.sendWebhook(`${bridge}/webhooks/zendesk`, {
    action: 'session.requested',
    ticket: {
      id,
      subject: 'Sandbox: printer on fire',
      priority: 'high',
      tags: 'remote_support',
      requester: { name: 'Casey Customer', email: 'casey@example.com' },
    },
  });
  console.log(`POST ${bridge}/webhooks/zendesk -> ${res.status} ${await res.text()}`);
  const auth = `Basic ${Buffer.from(`${signer.email}/token:${signer.apiToken}`).toString('base64')}`;
  for (let i = 0; i < 50; i += 1) {
    const comments = await fetch(`${zendeskUrl}/api/v2/tickets/${id}/comments.json`, { headers: { authorization: auth } });
    if (comments.ok) {
      const body = (await comments.json()) as { comments: { body: string; public: boolean }[] };
      if (body.comments.length >= 2) {
        for (const c of body.comments) console.log(`\n--- ${c.public ? 'public reply' : 'internal note'} on ticket ${id} ---\n${c.body}`);
        return playSession(id, zendeskUrl, auth, body.comments.length);
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`Nothing on ticket ${id} yet: see the sandbox's log.`);
  process.exitCode = 1;
}

/** The customer uses the key: the fake appliance plays the session and ends it; its transcript comes back. */
async function playSession(id: string, zendeskUrl: string, auth: string, before: number): Promise<void> {
  const appliance = process.env.SANDBOX_APPLIANCE_URL ?? 'http://127.0.0.1:3101';
  const played = await fetch(`${appliance}/__fake/play-session?external_key=${encodeURIComponent(id)}`, { method: 'POST' });
  if (!played.ok)
    return console.log(`\n(the appliance is not the sandbox's fake: end a session with external key ${id} there to see the transcript)`);
  const { lsid } = (await played.json()) as { lsid: string };
  console.log(`\nThe fake appliance played and ended session ${lsid} for ticket ${id}; waiting for its transcript...`);
  for (let i = 0; i < 100; i += 1) {
    const res = await fetch(`${zendeskUrl}/api/v2/tickets/${id}/comments.json`, { headers: { authorization: auth } });
    const body = (await res.json()) as { comments: { body: string; attachments: { file_name: string; size: number }[] }[] };
    if (body.comments.length >= before + 2) {
      for (const c of body.comments.slice(before)) {
        console.log(`\n--- internal note on ticket ${id} ---\n${c.body}`);
        for (const a of c.attachments) console.log(`    attached: ${a.file_name} (${a.size} bytes)`);
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`The transcript of ${lsid} has not reached ticket ${id} yet: see the sandbox's log.`);
  process.exitCode = 1;
}

/** The label added to an issue, as Jira's signed admin webhook reports it; then the comments on the fake issue. */
async function jira(key: string): Promise<void> {
  const bridge = process.env.SANDBOX_URL ?? 'http://127.0.0.1:3000';
  const jiraUrl = process.env.SANDBOX_JIRA_URL ?? 'http://127.0.0.1:3104';
  const signer = new FakeJira();
  signer.url = jiraUrl;
  const issue = signer.createIssue(key, { summary: 'Sandbox: VPN drops every hour', labels: ['remote_support'] });
  const res = await signer.sendWebhook(`${bridge}/webhooks/jira`, signer.webhookBody(issue, { addedLabel: 'remote_support' }));
  console.log(`POST ${bridge}/webhooks/jira -> ${res.status} ${await res.text()}`);
  const auth = `Basic ${Buffer.from(`${signer.email}:${signer.apiToken}`).toString('base64')}`;
  const comments = async () => {
    const answer = await fetch(`${jiraUrl}/rest/api/3/issue/${key}/comment?expand=properties`, { headers: { authorization: auth } });
    if (!answer.ok) return [];
    const body = (await answer.json()) as { comments: { body: { content: { content?: { text?: string }[] }[] }; jsdPublic: boolean }[] };
    return body.comments.map((c) => ({
      internal: !c.jsdPublic,
      text: c.body.content.map((p) => (p.content ?? []).map((n) => n.text ?? '\n').join('')).join('\n\n'),
    }));
  };
  const show = (list: { internal: boolean; text: string }[]) => {
    for (const c of list) console.log(`\n--- ${c.internal ? 'internal comment' : 'public reply'} on issue ${key} ---\n${c.text}`);
  };
  for (let i = 0; i < 50; i += 1) {
    const list = await comments();
    if (list.length >= 2) {
      show(list);
      const appliance = process.env.SANDBOX_APPLIANCE_URL ?? 'http://127.0.0.1:3101';
      const played = await fetch(`${appliance}/__fake/play-session?external_key=${encodeURIComponent(key)}`, { method: 'POST' });
      if (!played.ok) return console.log(`\n(end a session with external key ${key} on your appliance to see the transcript)`);
      console.log(`\nThe fake appliance played and ended a session for ${key}; waiting for its transcript...`);
      for (let j = 0; j < 100; j += 1) {
        const after = await comments();
        if (after.length > list.length) return show(after.slice(list.length));
        await new Promise((r) => setTimeout(r, 200));
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`Nothing (more) on issue ${key} yet: see the sandbox's log.`);
  process.exitCode = 1;
}

void main();
