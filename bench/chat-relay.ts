/**
 * Chat relay (issue 6): 50 escalations open at once against the fake appliance, through a real
 * rs-bridge process (dist/, RSB_ROLE=all, default RSB_CHAT_POLL_MS). For 30 s, every second 5 customers
 * write (bot → session) and 5 representatives reply (session → bot). Figures: p50/p99 of both
 * directions, 429s from the appliance (target 0), and the appliance request budget per open
 * escalation.
 * Run: npm run bench:chat -- [escalations] [seconds]
 */
import { FakeAppliance } from '../test/fakes/beyondtrust/fake-appliance';
import { FakeBot } from '../test/fakes/bot/fake-bot';
import { freePort, until } from '../test/support/child';
import { deleteKeys, uniquePrefix } from '../test/support/redis';
import { report, spawnApp } from './lib';

const ESCALATIONS = Number(process.argv[2] ?? 50);
const SECONDS = Number(process.argv[3] ?? 30);
const PER_SECOND = 5;
const SECRET = `whsec_${Buffer.from('bench-callback-secret-0123456789').toString('base64')}`;
const TOKEN = 'bench-api-token-0123456789abcdef';
const CUSTOMER = { name: 'Casey', ipAddress: '203.0.113.7', operatingSystem: 'Windows 11', computerName: 'CASEY-PC' };

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
};

async function main(): Promise<void> {
  const appliance = await new FakeAppliance().start();
  const bot = await new FakeBot(SECRET).start();
  const prefix = uniquePrefix('bench-chat');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const app = spawnApp({
    RSB_REDIS_PREFIX: prefix,
    PORT: String(port),
    BT_SITE_URL: appliance.url,
    RSB_CALLBACK_SECRET: SECRET,
    RSB_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    RSB_API_TOKENS: TOKEN,
    // One token drives every escalation: the flood guard runs but never refuses.
    RSB_API_RATE_LIMIT_PER_MINUTE: '1000000',
  });
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${base}/api/v1/chat/escalations${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  try {
    await until(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, 30_000, 'the app');
    const escalations = await Promise.all(
      Array.from({ length: ESCALATIONS }, async () => {
        const res = await call('POST', '', { customer: CUSTOMER, callbackUrl: bot.url, queue: 'team:1' });
        if (res.status !== 201) throw new Error(`escalate: ${res.status} ${await res.text()}`);
        return (await res.json()) as { id: string; lsid: string };
      }),
    );
    for (const e of escalations) appliance.joinRep(e.lsid, '2');
    await until(async () => bot.unique.filter((d) => d.type === 'escalation.accepted').length >= ESCALATIONS, 30_000, 'every acceptance');

    const sentAt = new Map<string, number>();
    const replyLatencies: number[] = [];
    const messageLatencies: number[] = [];
    const requestsBefore = appliance.requests.length;
    const started = performance.now();
    let n = 0;
    for (let second = 0; second < SECONDS; second += 1) {
      for (let k = 0; k < PER_SECOND; k += 1) {
        const e = escalations[(second * PER_SECOND + k) % ESCALATIONS];
        const text = `reply ${(n += 1)}`;
        sentAt.set(text, performance.now());
        appliance.chat(e.lsid, { repId: '2' }, text);
        const customer = escalations[(second * PER_SECOND + k + ESCALATIONS / 2) % ESCALATIONS];
        const t = performance.now();
        void call('POST', `/${customer.id}/messages`, { text: `customer line ${n}` }).then((res) => {
          if (res.status === 202) messageLatencies.push(performance.now() - t);
        });
      }
      await new Promise((r) => setTimeout(r, Math.max(0, started + (second + 1) * 1000 - performance.now())));
    }
    await until(async () => bot.unique.filter((d) => d.type === 'escalation.message').length >= n, 30_000, 'every reply');
    const elapsed = (performance.now() - started) / 1000;
    for (const d of bot.unique.filter((x) => x.type === 'escalation.message')) {
      const at = sentAt.get(String(d.body.text));
      if (at !== undefined) replyLatencies.push(d.receivedAt - at);
    }
    const steady = appliance.requests.slice(requestsBefore);
    const reports = steady.filter((r) => r.params.generate_report === 'SupportSession').length;
    report('chat-relay', {
      escalations: ESCALATIONS,
      seconds: SECONDS,
      chatPollMs: 2000,
      customerToSessionMs: { count: messageLatencies.length, p50: percentile(messageLatencies, 50), p99: percentile(messageLatencies, 99) },
      representativeToBotMs: { count: replyLatencies.length, p50: percentile(replyLatencies, 50), p99: percentile(replyLatencies, 99) },
      appliance429s: appliance.rateLimited,
      applianceRequestsPerSecond: Number((steady.length / elapsed).toFixed(2)),
      reportRequestsPerSecond: Number((reports / elapsed).toFixed(2)),
      reportRequestsPerEscalationPerMinute: Number(((reports / elapsed / ESCALATIONS) * 60).toFixed(2)),
      duplicateCallbacks: bot.received.length - bot.unique.length,
      badSignatures: bot.badSignatures,
    });
  } finally {
    app.kill('SIGTERM');
    await appliance.stop();
    await bot.stop();
    await deleteKeys(prefix);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
