import Ajv from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { envVarsOf } from '../../../src/config/env-var.decorator';
import { Environment } from '../../../src/config/environment';
import { renderRulesFile } from '../../support/chart';

const chart = join(__dirname, '..', '..', '..', 'helm', 'rs-bridge');
const read = (file: string) => readFileSync(join(chart, file), 'utf8');
const valuesText = read('values.yaml');
type Tree = Record<string, unknown>;
const values = parse(valuesText) as Tree;
const templateFiles = readdirSync(join(chart, 'templates'));
const templates = Object.fromEntries(templateFiles.map((f) => [f, read(join('templates', f))]));
const manifests = templateFiles.filter((f) => f.endsWith('.yaml'));

/** Template actions out: a line holding only actions goes, an inline action becomes a placeholder. */
const stripActions = (text: string): string =>
  text
    .split('\n')
    .filter((line) => line.replace(/\{\{.*?\}\}/g, '').trim() !== '' || line.trim() === '')
    .map((line) => line.replace(/\{\{.*?\}\}/g, 'x'))
    .join('\n');

const hasPath = (tree: unknown, path: string[]): boolean => {
  let node = tree;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !(key in (node as Tree))) return false;
    node = (node as Tree)[key];
  }
  return true;
};

const leafPaths = (node: unknown, prefix: string[] = []): string[] => {
  if (node === null || typeof node !== 'object' || Array.isArray(node) || Object.keys(node).length === 0) return [prefix.join('.')];
  return Object.entries(node as Tree).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
};

describe('Helm chart', () => {
  it('has every file the chart needs', () => {
    for (const file of ['Chart.yaml', 'values.yaml', 'values.schema.json', 'README.md']) expect(read(file).length).toBeGreaterThan(0);
    expect(templateFiles).toEqual(
      expect.arrayContaining([
        '_helpers.tpl',
        'NOTES.txt',
        'deployment-api.yaml',
        'deployment-worker.yaml',
        'service.yaml',
        'ingress.yaml',
        'hpa-api.yaml',
        'hpa-worker.yaml',
        'pdb-api.yaml',
        'pdb-worker.yaml',
        'serviceaccount.yaml',
        'configmap.yaml',
        'secret.yaml',
        'servicemonitor.yaml',
        'networkpolicy.yaml',
        'prometheusrule.yaml',
        'grafana-dashboard.yaml',
        'scaledobject-worker.yaml',
      ]),
    );
    expect(parse(read('Chart.yaml'))).toMatchObject({ apiVersion: 'v2', name: 'rs-bridge', type: 'application' });
  });

  it.each(manifests)('%s parses as Kubernetes YAML once template actions are stripped', (file) => {
    const docs = parseAllDocuments(stripActions(templates[file]), { uniqueKeys: false });
    const objects = docs.map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJS() as Tree | null;
    });
    for (const object of objects.filter((o) => o !== null)) {
      expect(object).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String), metadata: { name: expect.anything() } });
    }
  });

  it('references only values that exist in values.yaml', () => {
    const referenced = new Set<string>();
    for (const text of Object.values(templates))
      for (const m of text.matchAll(/\.Values((?:\.[A-Za-z0-9_]+)+)/g)) referenced.add(m[1].slice(1));
    expect(referenced.size).toBeGreaterThan(30);
    expect([...referenced].filter((path) => !hasPath(values, path.split('.')))).toEqual([]);
  });

  it('validates values.yaml against values.schema.json, and the schema catches a typo', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(read('values.schema.json')) as object);
    expect(validate(values) ? [] : validate.errors).toEqual([]);
    expect(validate({ ...values, replicas: 3 })).toBe(false);
    expect(validate({ ...values, config: { ...(values.config as Tree), RSB_API_TOKENS: 'secret-in-a-configmap' } })).toBe(false);
  });

  it('documents every value with a ## @param line and lists it in the README', () => {
    const documented = new Set([...valuesText.matchAll(/^\s*## @param (\S+)/gm)].map((m) => m[1]));
    expect(leafPaths(values).filter((p) => !documented.has(p))).toEqual([]);
    const readme = read('README.md');
    expect([...documented].filter((p) => !readme.includes(`| \`${p}\` |`))).toEqual([]);
  });

  describe('environment coverage', () => {
    const deployments = ['deployment-api.yaml', 'deployment-worker.yaml'].map((f) => templates[f]);
    const setByTemplate = new Set(deployments.flatMap((t) => [...t.matchAll(/- name: ([A-Z][A-Z0-9_]+)/g)].map((m) => m[1])));
    const configKeys = Object.keys(values.config as Tree);
    const secretKeys = Object.keys(values.secrets as Tree);
    const secretTemplateKeys = [...templates['secret.yaml'].matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);

    it.each(envVarsOf(Environment).map((v) => [v.name, v.sensitive ?? false] as const))(
      '%s (sensitive: %s) is settable from values',
      (name, sensitive) => {
        if (sensitive) {
          // Sensitive: never in the ConfigMap; from the chart's Secret (or the user's existingSecret, loaded whole with envFrom).
          expect(configKeys).not.toContain(name);
          expect([...secretKeys, ...secretTemplateKeys]).toContain(name);
        } else {
          expect([...configKeys, ...setByTemplate]).toContain(name);
        }
      },
    );

    it('loads the ConfigMap and the Secret into both roles and sets each role', () => {
      for (const [role, text] of [
        ['api', deployments[0]],
        ['worker', deployments[1]],
      ]) {
        expect(text).toMatch(/envFrom:\s+- configMapRef:[\s\S]+- secretRef:\s+name: \{\{ include "rs-bridge.secretName" \. \}\}/);
        expect(text).toMatch(new RegExp(`- name: RSB_ROLE\\s+value: ${role}\\b`));
        expect(text).toContain('checksum/config:');
        expect(text).toContain('checksum/secret:');
        expect(text).toMatch(/path: \/healthz/);
        expect(text).toMatch(/path: \/readyz/);
        expect(text).toMatch(/secretKeyRef:\s+name: \{\{ \.Values\.redis\.existingSecret \}\}/);
      }
    });
  });

  describe('Redis modes (issue 20)', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(read('values.schema.json')) as object);
    const withRedis = (redis: Tree) => ({ ...values, redis: { ...(values.redis as Tree), ...redis } });

    it('accepts single, sentinel and cluster with their nodes, and refuses a mode without them', () => {
      expect(validate(withRedis({ mode: 'single' }))).toBe(true);
      expect(
        validate(withRedis({ mode: 'sentinel', sentinel: { nodes: ['sentinel-0:26379', '[fd00::1]:26379'], master: 'mymaster' } })),
      ).toBe(true);
      expect(validate(withRedis({ mode: 'cluster', cluster: { nodes: ['redis-0:6379'] } }))).toBe(true);
      expect(validate(withRedis({ mode: 'sentinel' }))).toBe(false);
      expect(validate(withRedis({ mode: 'cluster' }))).toBe(false);
      expect(validate(withRedis({ mode: 'cluster', cluster: { nodes: ['redis-0'] } }))).toBe(false);
      expect(validate(withRedis({ mode: 'replicated' }))).toBe(false);
    });

    it('keeps Redis settings out of the ConfigMap: the chart sets them from redis.*', () => {
      for (const name of ['REDIS_SENTINELS', 'REDIS_CLUSTER_NODES', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD'])
        expect(validate({ ...values, config: { ...(values.config as Tree), [name]: 'x' } })).toBe(false);
    });

    it.each(['deployment-api.yaml', 'deployment-worker.yaml'])(
      '%s sets exactly the chosen mode and takes passwords from redis.existingSecret',
      (file) => {
        const text = templates[file];
        expect(text).toMatch(
          /if eq \.Values\.redis\.mode "single" \}\}[\s\S]+- name: REDIS_URL[\s\S]+else if eq \.Values\.redis\.mode "sentinel"/,
        );
        expect(text).toMatch(/mode "sentinel" \}\}\s+- name: REDIS_SENTINELS\s+value: \{\{ join "," \.Values\.redis\.sentinel\.nodes/);
        expect(text).toMatch(/else \}\}\s+- name: REDIS_CLUSTER_NODES\s+value: \{\{ join "," \.Values\.redis\.cluster\.nodes/);
        expect(text).toMatch(
          /- name: REDIS_PASSWORD\s+valueFrom:\s+secretKeyRef:\s+name: \{\{ \.Values\.redis\.existingSecret \}\}\s+key: \{\{ \.Values\.redis\.existingSecretPasswordKey/,
        );
        expect(text).toMatch(/- name: REDIS_SENTINEL_PASSWORD\s+valueFrom:\s+secretKeyRef:[\s\S]+existingSecretSentinelPasswordKey/);
      },
    );

    it("puts REDIS_URL in the chart's Secret only in single mode, and the passwords only without redis.existingSecret", () => {
      const secret = templates['secret.yaml'];
      expect(secret).toMatch(
        /if not \.Values\.redis\.existingSecret \}\}[\s\S]+if and \(eq \.Values\.redis\.mode "single"\) \.Values\.redis\.url \}\}\s+REDIS_URL:/,
      );
      expect(secret).toMatch(/REDIS_PASSWORD: \{\{ \.Values\.redis\.password/);
      expect(secret).toMatch(/mode "sentinel"\) \.Values\.redis\.sentinelPassword \}\}\s+REDIS_SENTINEL_PASSWORD:/);
    });
  });

  it('ships secure defaults', () => {
    expect(values.podSecurityContext).toMatchObject({ enabled: true, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(values.containerSecurityContext).toMatchObject({
      enabled: true,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const role of ['api', 'worker']) {
      expect(hasPath(values, [role, 'resources', 'requests', 'cpu'])).toBe(true);
      expect(hasPath(values, [role, 'resources', 'limits', 'memory'])).toBe(true);
    }
    expect((values.serviceAccount as Tree).automountServiceAccountToken).toBe(false);
  });

  it('gives pods more time to stop than the drain period plus the shutdown timeout of jobs, with a margin', () => {
    const config = values.config as Tree;
    const graceMs = (values.terminationGracePeriodSeconds as number) * 1000;
    const drainMs = Number(config.RSB_DRAIN_SECONDS) * 1000;
    expect(drainMs).toBeGreaterThan(0);
    expect(graceMs).toBeGreaterThanOrEqual(drainMs + Number(config.RSB_SHUTDOWN_TIMEOUT_MS) + 5_000);
    for (const deployment of ['deployment-api.yaml', 'deployment-worker.yaml'])
      expect(templates[deployment]).toContain('terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}');
  });

  it('exposes only the webhook paths through the Ingress by default', () => {
    const paths = [...templates['ingress.yaml'].matchAll(/- path: (\S+)/g)].map((m) => m[1]);
    expect(paths).toEqual(['/webhooks/', '/api/v1/']);
    expect(templates['ingress.yaml']).toMatch(/\{\{- if \.Values\.ingress\.exposeApi \}\}\s+- path: \/api\/v1\//);
    expect((values.ingress as Tree).exposeApi).toBe(false);
  });

  it('ships the alerts, the dashboard and KEDA scaling opt-in, each behind its own switch', () => {
    const metrics = values.metrics as { prometheusRule: Tree; grafanaDashboard: Tree };
    expect(metrics.prometheusRule.enabled).toBe(false);
    expect(metrics.grafanaDashboard).toMatchObject({ enabled: false, labels: { grafana_dashboard: '1' } });
    expect(hasPath(values, ['worker', 'autoscaling', 'keda', 'enabled'])).toBe(true);
    expect(templates['prometheusrule.yaml']).toMatch(/^\{\{- if \.Values\.metrics\.prometheusRule\.enabled \}\}/);
    expect(templates['prometheusrule.yaml']).toContain('tpl (.Files.Get "files/prometheus-rules.yaml") .');
    expect(parse(renderRulesFile())).toMatchObject({ groups: [{ name: 'rs-bridge', rules: expect.any(Array) }] });
    expect(templates['grafana-dashboard.yaml']).toMatch(/^\{\{- if \.Values\.metrics\.grafanaDashboard\.enabled \}\}/);
    expect(templates['grafana-dashboard.yaml']).toContain('.Files.Get "files/grafana-dashboard.json"');
    expect(JSON.parse(read('files/grafana-dashboard.json'))).toMatchObject({ uid: 'rs-bridge', panels: expect.any(Array) });
    // KEDA's ScaledObject creates its own HorizontalPodAutoscaler: the chart's must then stay out, and so must replicas.
    expect(templates['scaledobject-worker.yaml']).toMatch(/^\{\{- if \.Values\.worker\.autoscaling\.keda\.enabled \}\}/);
    expect(templates['hpa-worker.yaml']).toContain(
      '{{- if and .Values.worker.autoscaling.enabled (not .Values.worker.autoscaling.keda.enabled) }}',
    );
    expect(templates['deployment-worker.yaml']).toContain(
      '{{- if not (or .Values.worker.autoscaling.enabled .Values.worker.autoscaling.keda.enabled) }}',
    );
    const scaled = parse(stripActions(templates['scaledobject-worker.yaml'])) as { spec: { triggers: { type: string; metadata: Tree }[] } };
    expect(scaled.spec.triggers.map((t) => t.type)).toEqual(['prometheus', 'cpu']);
    expect(templates['scaledobject-worker.yaml']).toContain('query: sum(max by (queue) (rsb_queue_jobs{');
  });

  it('rolls out without dropping anything: startup probe, no pod missing during an update, pods spread over nodes', () => {
    expect(values.startupProbe).toMatchObject({ enabled: true });
    expect(values.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    for (const role of ['api', 'worker']) {
      expect((values[role] as Tree).podAntiAffinityPreset).toBe('soft');
      const text = templates[`deployment-${role}.yaml`];
      expect(text).toMatch(/startupProbe:\s+httpGet:\s+path: \/healthz/);
      expect(text).toMatch(
        /strategy:\s+type: \{\{ \.Values\.updateStrategy\.type \}\}\s+\{\{- if eq \.Values\.updateStrategy\.type "RollingUpdate" \}\}\s+rollingUpdate:/,
      );
      expect(text).toContain(`{{- else if ne .Values.${role}.podAntiAffinityPreset "none" }}`);
    }
    expect(templates['_helpers.tpl']).toMatch(/define "rs-bridge.podAntiAffinity"[\s\S]+preferredDuringSchedulingIgnoredDuringExecution/);
  });

  it.each(['api', 'worker'])('%s pods take the Bitnami-style extras', (role) => {
    const text = templates[`deployment-${role}.yaml`];
    for (const value of [
      'extraEnvVarsCM',
      'extraEnvVarsSecret',
      'extraVolumes',
      'extraVolumeMounts',
      'initContainers',
      'sidecars',
      'priorityClassName',
      'updateStrategy',
      'existingConfigmap',
    ])
      expect(text).toContain(`.Values.${value}`);
    expect(text).toContain('{{- include "rs-bridge.imagePullSecrets" . | nindent 6 }}');
    expect(templates[`pdb-${role}.yaml`]).toContain(`maxUnavailable: {{ .Values.${role}.pdb.maxUnavailable }}`);
    expect(templates['_helpers.tpl']).toContain('default .Values.image.registry .Values.global.imageRegistry');
    expect(templates['_helpers.tpl']).toContain('concat .Values.global.imagePullSecrets .Values.image.pullSecrets');
  });
});
