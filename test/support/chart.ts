import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const CHART = join(__dirname, '..', '..', 'helm', 'rs-bridge');
export const chartValues = (): Record<string, unknown> =>
  parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;

const valueAt = (values: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values);

/**
 * Renders files/prometheus-rules.yaml as the chart's `tpl` does. The file may use only two actions,
 * `{{ .Values.a.b }}` and the raw string {{`...`}} that carries Prometheus's own templates; anything else
 * fails here rather than render differently under Helm.
 */
export function renderRulesFile(values = chartValues()): string {
  const text = readFileSync(join(CHART, 'files', 'prometheus-rules.yaml'), 'utf8');
  return text.replace(/\{\{`(.*?)`\}\}|\{\{(.*?)\}\}/gs, (action: string, raw?: string, inner?: string) => {
    if (raw !== undefined) return raw;
    const ref = /^\s*\.Values\.([A-Za-z0-9_.]+)\s*$/.exec(inner ?? '');
    if (!ref) throw new Error(`unsupported template action in prometheus-rules.yaml: ${action}`);
    const value = valueAt(values, ref[1]);
    if (value === undefined || value === null || typeof value === 'object') throw new Error(`no scalar value ${ref[1]}`);
    return String(value);
  });
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export const alertRules = (rendered = renderRulesFile()): AlertRule[] =>
  (parse(rendered) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((g) => g.rules);

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

/** Every PromQL expression of the dashboard, with Grafana's variables replaced by what Prometheus accepts. */
export function dashboardQueries(): { title: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(join(CHART, 'files', 'grafana-dashboard.json'), 'utf8')) as { panels: Panel[] };
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      title: p.title,
      expr: t.expr
        .replace(/\$__rate_interval/g, '5m')
        .replace(/\$hourly_budget/g, '15000')
        .replace(/\$namespace/g, '.*'),
    })),
  );
}

/** The metric names and label names an expression selects, e.g. rsb_queue_jobs{state="failed"} → rsb_queue_jobs [state]. */
export function selectors(expr: string): { metric: string; labels: string[] }[] {
  const found: { metric: string; labels: string[] }[] = [];
  // A metric name is an identifier followed by a selector or a range, or standing alone, that is not a
  // function, an aggregation keyword or a label name inside by (...)/without (...).
  const withoutGrouping = expr.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  for (const m of withoutGrouping.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g)) {
    const [, name, matchers] = m;
    const after = withoutGrouping.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function or aggregation
    if (/^(sum|max|min|avg|count|rate|increase|delta|bool|and|or|unless|offset|le)$/.test(name)) continue;
    if (/^\d/.test(name)) continue;
    const before = withoutGrouping.slice(0, m.index);
    if (/\{[^}]*$/.test(before)) continue; // a label inside a selector
    if (/"[^"]*$/.test(before) && (before.match(/"/g) ?? []).length % 2 === 1) continue; // inside a string
    if (!/_/.test(name)) continue; // every metric we use has an underscore; durations like 5m do not
    found.push({ metric: name, labels: [...(matchers ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]) });
  }
  return found;
}
