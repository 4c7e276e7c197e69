/**
 * Session end → note on the ticket (issue 5): 200 sessions end in the fake appliance at a constant pace;
 * its outbound events go to a real rs-bridge process (dist/, RSB_ROLE=all, real Redis), which pulls
 * each report and writes the note to the fake Zendesk. Figures: p50/p99 from the end of the session
 * to the note landing, with the fake's simulated report latency subtracted (and reported).
 * Run: npm run bench:session-end -- [sessions] [per-second]
 */
import { FakeAppliance } from '../test/fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../test/fakes/zendesk/fake-zendesk';
import { until } from '../test/support/child';
import { deleteKeys, uniquePrefix } from '../test/support/redis';
import { percentile, report, startBridge } from './lib';

const SESSIONS = Number(process.argv[2] ?? 200);
const PER_SECOND = Number(process.argv[3] ?? 10);
const REPORT_LATENCY_MS = 25;
const TOKEN = 'bench-events-token-0123456789';

async function main(): Promise<void> {
  const appliance = await new FakeAppliance({ reportLatencyMs: REPORT_LATENCY_MS }).start();
  const zendesk = await new FakeZendesk().start();
  const prefix = uniquePrefix('bench-end');
  const app = await startBridge({
    RSB_REDIS_PREFIX: prefix,
    BT_SITE_URL: appliance.url,
    BT_EVENTS_TOKEN: TOKEN,
    ZENDESK_BASE_URL: zendesk.url,
    ZENDESK_EMAIL: zendesk.email,
    ZENDESK_API_TOKEN: zendesk.apiToken,
    ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
  });
  try {
    appliance.sendOutboundEventsTo(`${app.url}/webhooks/beyondtrust`, TOKEN);
    const endedAt = new Map<string, number>();
    const latencies: number[] = [];
    zendesk.onComment = (ticketId) => {
      const ended = endedAt.get(ticketId);
      if (ended !== undefined) latencies.push(performance.now() - ended - REPORT_LATENCY_MS);
    };
    const started = performance.now();
    for (let i = 0; i < SESSIONS; i += 1) {
      const ticketId = String(10_000 + i);
      zendesk.createTicket(ticketId);
      // The external key is the Zendesk ticket id: resolved by its format, as a typed-in key would be.
      const session = appliance.startSession({ externalKey: ticketId });
      appliance.chat(session.lsid, 'customer', 'Hello, my laptop will not boot');
      appliance.chat(session.lsid, 'system', 'Representative joined');
      const due = started + (i * 1000) / PER_SECOND;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      endedAt.set(ticketId, performance.now());
      appliance.endSession(session.lsid);
    }
    await until(async () => latencies.length >= SESSIONS, 120_000, 'every note');
    const reports = appliance.requests.filter((r) => r.params.generate_report === 'SupportSession').length;
    report('session-end-latency', {
      sessions: SESSIONS,
      endedPerSecond: PER_SECOND,
      fakeReportLatencyMs: REPORT_LATENCY_MS,
      supportSessionReports: reports,
      noteLatencyMs: {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: percentile(latencies, 100),
      },
      note: 'from endSession() to the note on the ticket, minus the fake report latency (one SupportSession report per session)',
    });
  } finally {
    app.child.kill('SIGTERM');
    await appliance.stop();
    await zendesk.stop();
    await deleteKeys(prefix);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
