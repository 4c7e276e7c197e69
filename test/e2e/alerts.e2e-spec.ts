import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { registry } from '../../src/metrics/metrics';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp } from '../support/app';
import { alertRules, chartValues, dashboardQueries, renderRulesFile, selectors } from '../support/chart';
import { until } from '../support/child';
import { applianceEnv, zendeskEnv } from '../support/fake-env';

/** Labels Prometheus adds to every scraped series (the ServiceMonitor's target labels). */
const TARGET_LABELS = new Set(['namespace', 'pod', 'instance', 'job', 'service', 'container', 'endpoint', 'le']);
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

interface Series {
  name: string;
  labels: Record<string, string>;
}

const parseScrape = (text: string) => {
  const names = new Set<string>();
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      names.add(type[1]);
      if (type[2] === 'histogram' || type[2] === 'summary') for (const s of HISTOGRAM_SUFFIXES) names.add(type[1] + s);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (sample)
      series.push({
        name: sample[1],
        labels: Object.fromEntries([...(sample[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])),
      });
  }
  return { names, series };
};

/** The label names the application declares for a metric (a histogram's series share its base's). */
const declaredLabels = async (): Promise<Map<string, Set<string>>> => {
  const declared = new Map<string, Set<string>>();
  for (const metric of await registry.getMetricsAsJSON()) {
    const labels = new Set<string>(((metric as unknown as { labelNames?: string[] }).labelNames ?? []).concat());
    for (const value of metric.values) for (const l of Object.keys(value.labels)) labels.add(l);
    for (const suffix of ['', ...HISTOGRAM_SUFFIXES]) declared.set(metric.name + suffix, labels);
  }
  for (const metric of registry.getMetricsAsArray()) {
    const names = (metric as unknown as { labelNames?: string[] }).labelNames ?? [];
    for (const suffix of ['', ...HISTOGRAM_SUFFIXES]) for (const n of names) declared.get(metric.name + suffix)?.add(n);
  }
  return declared;
};

const promtool = (...args: string[]) => {
  try {
    return { code: 0, out: execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string; code?: string };
    if (e.code === 'ENOENT') throw new Error("promtool is not installed (Debian's prometheus package; .ci/run installs it)");
    return { code: e.status ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
};

describe("the chart's alerts and dashboard against the metrics a running rs-bridge exports", () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let scrape: ReturnType<typeof parseScrape>;
  let declared: Map<string, Set<string>>;
  const dir = mkdtempSync(join(tmpdir(), 'rsb-alerts-'));
  const rulesFile = join(dir, 'rules.yaml');

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    sut = await startApp({ ...applianceEnv(appliance), ...zendeskEnv(zendesk), BT_POLL_INTERVAL_SECONDS: '0' });
    // Traffic enough for every kind of series: a webhook, its job, the appliance (token included), Zendesk.
    zendesk.createTicket('701');
    const res = await zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, {
      action: 'session.requested',
      ticket: { id: '701', subject: 'Alerts' },
    });
    expect(res.status).toBe(202);
    const text = await until(
      async () => {
        const body = await (await fetch(`${sut.url}/metrics`)).text();
        return body.includes('rsb_ticket_system_requests_total{system="zendesk",status="200"}') && body;
      },
      15_000,
      'the ticket write in the metrics',
    );
    scrape = parseScrape(text);
    declared = await declaredLabels();
    writeFileSync(rulesFile, renderRulesFile());
  });
  afterAll(async () => {
    await sut.close();
    await Promise.all([appliance.stop(), zendesk.stop()]);
  });

  const checkExpr = (expr: string): string[] => {
    const problems: string[] = [];
    const used = selectors(expr);
    if (used.length === 0) problems.push(`no metric in ${expr}`);
    const grouping = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
      m[1]
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    );
    for (const { metric, labels } of used) {
      if (!scrape.names.has(metric)) problems.push(`${metric} is not in the scrape`);
      const known = declared.get(metric) ?? new Set<string>();
      for (const label of labels) if (!TARGET_LABELS.has(label) && !known.has(label)) problems.push(`${metric} has no label ${label}`);
    }
    for (const label of grouping)
      if (!TARGET_LABELS.has(label) && !used.some(({ metric }) => declared.get(metric)?.has(label)))
        problems.push(`no metric of ${expr} has label ${label}`);
    return problems;
  };

  it('every alert selects metrics and labels the app exports', () => {
    const rules = alertRules();
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'RsBridgeApplianceRateLimited',
      'RsBridgeApplianceTokenRefused',
      'RsBridgeFailedJobsGrowing',
      'RsBridgePollCursorLagging',
      'RsBridgeQueueBacklog',
      'RsBridgeRedisUnreachable',
    ]);
    expect(rules.flatMap((r) => checkExpr(r.expr))).toEqual([]);
    // Redis-wide gauges are the same on every pod: summing them would multiply by the pod count.
    for (const r of rules) expect(r.expr).not.toMatch(/sum[^(]*\([^)]*(rsb_queue_jobs|rsb_poll_cursor_lag_seconds)/);
  });

  it('every dashboard query selects metrics and labels the app exports, and is valid PromQL', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    expect(queries.flatMap((q) => checkExpr(q.expr).map((p) => `${q.title}: ${p}`))).toEqual([]);
    for (const q of queries) expect(q.expr).not.toMatch(/sum[^(]*\([^)]*(rsb_queue_jobs|rsb_poll_cursor_lag_seconds)/);
    // promtool parses recording rules: the dashboard's queries as rules prove their syntax.
    const file = join(dir, 'dashboard.yaml');
    writeFileSync(
      file,
      stringify({ groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `rsb:dashboard:${i}`, expr: q.expr })) }] }),
    );
    const checked = promtool('check', 'rules', file);
    expect(checked.out).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(checked.code).toBe(0);
  });

  it('promtool check rules accepts the rules file', () => {
    const checked = promtool('check', 'rules', rulesFile);
    expect(checked.out).toContain('SUCCESS: 6 rules found');
    expect(checked.code).toBe(0);
  });

  it('promtool test rules: each alert fires on series recorded from the app, and two pods do not double a depth', () => {
    const values = chartValues() as { metrics: { prometheusRule: { severity: string; queueDepthThreshold: number; runbookUrl: string } } };
    const { severity, queueDepthThreshold, runbookUrl } = values.metrics.prometheusRule;
    /** A recorded series (its name and labels as scraped), with some labels replaced, as seen from one pod. */
    const recorded = (name: string, match: Record<string, string>, replace: Record<string, string> = {}, pod = 'rs-bridge-api-0') => {
      const found = scrape.series.find((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
      if (!found) throw new Error(`the app did not export ${name} ${JSON.stringify(match)}`);
      const labels = { ...found.labels, ...replace, pod };
      return `${name}{${Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}}`;
    };
    const bothPods = (name: string, match: Record<string, string>, replace: Record<string, string>, values: string) =>
      ['rs-bridge-api-0', 'rs-bridge-worker-0'].map((pod) => ({ series: recorded(name, match, replace, pod), values }));
    const runbook = (alert: string) => `${runbookUrl}#${alert.toLowerCase()}`;
    const depth = queueDepthThreshold + 100;
    const tests = [
      {
        interval: '1m',
        input_series: [
          ...bothPods('rsb_queue_jobs', { queue: 'ticket-events', state: 'failed' }, {}, '0x10 5x20'),
          ...bothPods('rsb_queue_jobs', { queue: 'session-end', state: 'failed' }, {}, '3x30'),
          ...bothPods('rsb_poll_cursor_lag_seconds', {}, {}, '2000x30'),
          { series: recorded('rsb_appliance_requests_total', { operation: 'generate_session_key' }, { status: '429' }), values: '0+10x30' },
          {
            series: recorded('rsb_appliance_requests_total', { operation: 'oauth2/token' }, { status: '401' }, 'rs-bridge-worker-0'),
            values: '0x2 1x28',
          },
          { series: recorded('rsb_redis_up', {}, {}, 'rs-bridge-api-0'), values: '1x30' },
          { series: recorded('rsb_redis_up', {}, {}, 'rs-bridge-worker-0'), values: '1x5 0x25' },
          ...bothPods('rsb_queue_jobs', { queue: 'ticket-events', state: 'waiting' }, {}, `${depth}x30`),
          // Below the threshold on each pod, above it if the two pods' values were summed.
          ...bothPods('rsb_queue_jobs', { queue: 'recordings', state: 'waiting' }, {}, `${Math.ceil(queueDepthThreshold * 0.6)}x30`),
        ],
        alert_rule_test: [
          {
            eval_time: '20m',
            alertname: 'RsBridgeFailedJobsGrowing',
            exp_alerts: [
              {
                exp_labels: { severity, queue: 'ticket-events' },
                exp_annotations: {
                  summary: 'Jobs of queue ticket-events are failing for good',
                  description: '5 more jobs in the failed set of ticket-events than 15 minutes ago.',
                  runbook_url: runbook('RsBridgeFailedJobsGrowing'),
                },
              },
            ],
          },
          {
            eval_time: '20m',
            alertname: 'RsBridgePollCursorLagging',
            exp_alerts: [
              {
                exp_labels: { severity },
                exp_annotations: {
                  summary: 'The session poll cursor is not advancing',
                  description: 'The poll cursor is 33m 20s behind: ended sessions are not being picked up.',
                  runbook_url: runbook('RsBridgePollCursorLagging'),
                },
              },
            ],
          },
          {
            eval_time: '20m',
            alertname: 'RsBridgeApplianceRateLimited',
            exp_alerts: [
              {
                exp_labels: { severity },
                exp_annotations: {
                  summary: 'The BeyondTrust appliance answers 429',
                  description: "The appliance has refused requests with 429 for 10 minutes: the API account's budget is spent.",
                  runbook_url: runbook('RsBridgeApplianceRateLimited'),
                },
              },
            ],
          },
          {
            eval_time: '5m',
            alertname: 'RsBridgeApplianceTokenRefused',
            exp_alerts: [
              {
                exp_labels: { severity },
                exp_annotations: {
                  summary: "The BeyondTrust appliance refuses the API account's credentials",
                  description: 'The appliance refused token requests in the last 10 minutes: check BT_CLIENT_ID and BT_CLIENT_SECRET.',
                  runbook_url: runbook('RsBridgeApplianceTokenRefused'),
                },
              },
            ],
          },
          { eval_time: '6m', alertname: 'RsBridgeRedisUnreachable', exp_alerts: [] },
          {
            eval_time: '10m',
            alertname: 'RsBridgeRedisUnreachable',
            exp_alerts: [
              {
                exp_labels: { severity: 'critical' },
                exp_annotations: {
                  summary: 'rs-bridge cannot reach Redis',
                  description: 'At least one pod has not read its queues from Redis for 2 minutes; webhooks get 503.',
                  runbook_url: runbook('RsBridgeRedisUnreachable'),
                },
              },
            ],
          },
          {
            eval_time: '15m',
            alertname: 'RsBridgeQueueBacklog',
            exp_alerts: [
              {
                exp_labels: { severity, queue: 'ticket-events' },
                exp_annotations: {
                  summary: 'Jobs wait in queue ticket-events',
                  description: `${depth} jobs waiting in ticket-events for 10 minutes.`,
                  runbook_url: runbook('RsBridgeQueueBacklog'),
                },
              },
            ],
          },
        ],
      },
      {
        // Quiet: a failed set that stays put, a cursor a poll interval behind, 200s only.
        interval: '1m',
        input_series: [
          ...bothPods('rsb_queue_jobs', { queue: 'ticket-events', state: 'failed' }, {}, '7x30'),
          ...bothPods('rsb_poll_cursor_lag_seconds', {}, {}, '60x30'),
          { series: recorded('rsb_appliance_requests_total', { operation: 'oauth2/token', status: '200' }), values: '0x2 1x28' },
          { series: recorded('rsb_redis_up', {}, {}), values: '1x30' },
        ],
        alert_rule_test: [
          'RsBridgeFailedJobsGrowing',
          'RsBridgePollCursorLagging',
          'RsBridgeApplianceTokenRefused',
          'RsBridgeRedisUnreachable',
          'RsBridgeQueueBacklog',
        ].map((alertname) => ({ eval_time: '25m', alertname, exp_alerts: [] })),
      },
    ];
    const testFile = join(dir, 'rules.test.yaml');
    writeFileSync(testFile, stringify({ rule_files: [rulesFile], evaluation_interval: '1m', tests }));
    const result = promtool('test', 'rules', testFile);
    expect(result.out).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('links each alert to a runbook entry in docs/operations.md', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
    const headings = [...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
      m[1]
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    );
    for (const rule of alertRules()) expect(headings).toContain(rule.annotations.runbook_url.split('#')[1]);
  });
});
