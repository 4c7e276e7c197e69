/**
 * Capacity per account, measured as whole ticket lifecycles (issue 23): a signed Zendesk webhook → the
 * session key (public reply, internal note, fields) → the fake appliance plays a session on that key
 * (chat, one session recording) and ends it, with one unrelated session (no ticket behind its key)
 * ending beside it → transcript note and recording on the ticket. Through a real rs-bridge process from
 * dist/ (RSB_ROLE=all: ONE process here, not 2 api + 3 workers — the machine has 2 shared cores), real
 * Redis, the fake appliance at 20 requests/s and the fake Zendesk enforcing its documented Update Ticket
 * limit (100/min) while rs-bridge keeps to ZENDESK_RATE_LIMIT_PER_MINUTE (default 60).
 * Prints: appliance requests per lifecycle by kind, Zendesk calls per lifecycle by kind, lifecycles/hour
 * each budget allows, key p50/p99, end → note p50/p99, wall time against the binding budget's floor, 429s.
 * Run: npm run bench:capacity -- [lifecycles=200]
 */
import { FakeAppliance } from '../test/fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../test/fakes/zendesk/fake-zendesk';
import { freePort, until } from '../test/support/child';
import { deleteKeys, uniquePrefix } from '../test/support/redis';
import { report, spawnApp } from './lib';

const LIFECYCLES = Number(process.argv[2] ?? 200);
const ZENDESK_PER_MINUTE = 60;
const BT_PER_SECOND = 20;
const BT_PER_HOUR = 15_000;
const RECORDING_BYTES = 64 * 1024;
const TOKEN = 'bench-events-token-0123456789';

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN);
};
const perLifecycle = (counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Math.round((v / LIFECYCLES) * 100) / 100]));
const tally = (keys: string[]) => keys.reduce<Record<string, number>>((acc, k) => ((acc[k] = (acc[k] ?? 0) + 1), acc), {});

async function main(): Promise<void> {
  const appliance = await new FakeAppliance({ perSecond: BT_PER_SECOND }).start();
  const zendesk = await new FakeZendesk().start();
  const prefix = uniquePrefix('bench-capacity');
  const port = await freePort();
  const app = spawnApp({
    RSB_REDIS_PREFIX: prefix,
    PORT: String(port),
    BT_SITE_URL: appliance.url,
    BT_EVENTS_TOKEN: TOKEN,
    BT_RATE_LIMIT_PER_SECOND: String(BT_PER_SECOND),
    ZENDESK_BASE_URL: zendesk.url,
    ZENDESK_EMAIL: zendesk.email,
    ZENDESK_API_TOKEN: zendesk.apiToken,
    ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
    ZENDESK_RATE_LIMIT_PER_MINUTE: String(ZENDESK_PER_MINUTE),
  });
  try {
    await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, 60_000, 'the app');
    appliance.sendOutboundEventsTo(`http://127.0.0.1:${port}/webhooks/beyondtrust`, TOKEN);
    const hook = `http://127.0.0.1:${port}/webhooks/zendesk`;
    const sentAt = new Map<string, number>();
    const sentWall = new Map<string, number>();
    const endedAt = new Map<string, number>();
    const keyMs: number[] = [];
    const noteMs: number[] = [];
    const done = new Set<string>();
    const noted = new Set<string>();
    zendesk.onComment = (ticketId, comment) => {
      const now = performance.now();
      if (comment.public) {
        const shortKey = /ak=(\d{7})/.exec(comment.body)?.[1];
        if (!shortKey || endedAt.has(ticketId)) return;
        keyMs.push(now - sentAt.get(ticketId)!);
        // The customer uses the key: a session with chat and one recording, then it ends, with an
        // unrelated session (no ticket behind its key) ending beside it.
        const key = appliance.keys.get(shortKey)!;
        const s = appliance.startSession({ externalKey: key.externalKey });
        appliance.joinRep(s.lsid, '2');
        appliance.chat(s.lsid, 'customer', `ticket ${ticketId}: my laptop will not boot`);
        appliance.chat(s.lsid, { repId: '2' }, 'Pushing a fix now');
        appliance.addRecording(s.lsid, 'session', RECORDING_BYTES);
        const other = appliance.startSession({ externalKey: `walk-in-${ticketId}` });
        endedAt.set(ticketId, performance.now());
        appliance.endSession(s.lsid);
        appliance.endSession(other.lsid);
      } else if (endedAt.has(ticketId)) {
        if (comment.body.includes('transcript') || comment.attachments.some((a) => a.filename.includes('transcript')))
          if (!noted.has(ticketId)) {
            noted.add(ticketId);
            noteMs.push(now - endedAt.get(ticketId)!);
          }
        if (comment.attachments.some((a) => !a.filename.includes('transcript'))) done.add(ticketId);
      }
    };
    const started = performance.now();
    await Promise.all(
      Array.from({ length: LIFECYCLES }, async (_, i) => {
        const id = String(50_000 + i);
        zendesk.createTicket(id);
        sentAt.set(id, performance.now());
        sentWall.set(id, Date.now());
        const res = await zendesk.sendWebhook(hook, {
          action: 'session.requested',
          ticket: {
            id,
            url: `https://example.zendesk.com/agent/tickets/${id}`,
            subject: 'Laptop will not boot',
            priority: 'Normal',
            tags: '',
          },
        });
        if (res.status !== 202) throw new Error(`webhook ${id}: HTTP ${res.status}`);
      }),
    );
    await until(async () => done.size >= LIFECYCLES, 60 * 60_000, 'every lifecycle');
    const wallS = (performance.now() - started) / 1000;

    const bt = tally(appliance.requests.map((r) => r.params.action ?? r.params.generate_report ?? r.path));
    const zd = tally(
      zendesk.requests.map((r) =>
        r.method === 'PUT'
          ? 'updateTicket'
          : r.path.startsWith('/api/v2/uploads')
            ? 'upload'
            : `${r.method} ${r.path.split('?')[0].replace(/\d+/g, ':id')}`,
      ),
    );
    // When each key was made at the appliance (its external key is the ticket number), from the webhook.
    const keyMadeMs = appliance.requests
      .filter((r) => r.params.action === 'generate_session_key' && r.status === 200)
      .map((r) => r.at - (sentWall.get(r.params['session.custom.external_key'] ?? '') ?? NaN))
      .filter((ms) => Number.isFinite(ms));
    const btTotal = Object.values(bt).reduce((a, b) => a + b, 0);
    const updates = zd.updateTicket ?? 0;
    const btFloorS = btTotal / BT_PER_SECOND;
    const zdFloorS = (Math.max(0, updates - ZENDESK_PER_MINUTE) / ZENDESK_PER_MINUTE) * 60;
    const floorS = Math.max(btFloorS, zdFloorS);
    report(`capacity-${LIFECYCLES}`, {
      lifecycles: LIFECYCLES,
      processes: '1 (RSB_ROLE=all)',
      applianceRequestsPerLifecycle: { total: Math.round((btTotal / LIFECYCLES) * 100) / 100, ...perLifecycle(bt) },
      zendeskCallsPerLifecycle: perLifecycle(zd),
      lifecyclesPerHourAllowed: {
        appliance: Math.floor(BT_PER_HOUR / (btTotal / LIFECYCLES)),
        zendesk: Math.floor((ZENDESK_PER_MINUTE * 60) / (updates / LIFECYCLES)),
      },
      keyMadeAtApplianceMs: {
        p50: percentile(keyMadeMs, 50),
        p99: percentile(keyMadeMs, 99),
        keysAloneAt20PerS: Math.round((LIFECYCLES / BT_PER_SECOND) * 1000),
      },
      keyOnTicketMs: { p50: percentile(keyMs, 50), p99: percentile(keyMs, 99) },
      endToNoteMs: { p50: percentile(noteMs, 50), p99: percentile(noteMs, 99) },
      wallSeconds: Math.round(wallS * 10) / 10,
      bindingFloorSeconds: { appliance: Math.round(btFloorS * 10) / 10, zendesk: Math.round(zdFloorS * 10) / 10 },
      wallOverFloor: Math.round((wallS / floorS) * 100) / 100,
      http429: { appliance: appliance.rateLimited, zendesk: zendesk.updateTicketThrottled },
    });
  } finally {
    app.kill('SIGTERM');
    await appliance.stop();
    await zendesk.stop();
    await deleteKeys(prefix);
  }
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
