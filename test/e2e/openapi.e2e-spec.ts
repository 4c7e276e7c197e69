import Ajv from 'ajv';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningApp, startApp, TEST_API_TOKEN } from '../support/app';
import { ROOT } from '../support/child';

interface Media {
  schema?: object;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Operation {
  operationId: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: object; example?: unknown }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; securitySchemes: Record<string, Record<string, unknown>> };
}

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));

describe('The OpenAPI document (/docs-json) is good enough to generate clients from', () => {
  let sut: RunningApp;
  let doc: Document;
  let ajv: Ajv;
  /** Validates a value against a schema of the document ($refs resolve against its components). */
  const validate = (schema: object, value: unknown) => {
    const check = ajv.compile({ ...schema, components: doc.components });
    return check(value) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };

  beforeAll(async () => {
    sut = await startApp();
    doc = (await (await fetch(`${sut.url}/docs-json`)).json()) as Document;
    // OpenAPI 3.0 schemas are JSON Schema plus a few keywords of their own (example, nullable): not strict.
    // Formats (email, uri) are not what the examples are checked for here.
    ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  });
  afterAll(() => sut.close());

  it("passes Redocly's recommended rules with no error (warnings only for the probes, which have no 4xx)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'rsb-openapi-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
      const out = execFileSync(process.execPath, [join(ROOT, 'test/support/openapi-lint.mjs'), join(dir, 'openapi.json')], {
        encoding: 'utf8',
      });
      const problems = JSON.parse(out) as { rule: string; severity: string; where: string; message: string }[];
      expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
      expect(
        problems.filter((p) => !(p.rule === 'operation-4xx-response' && /^#\/paths\/~1(healthz|readyz|metrics)\//.test(p.where))),
      ).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists each operation once, under one tag, with a schema for every success and error answer', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(24);
    expect(new Set(ops.map(({ op }) => op.operationId)).size).toBe(ops.length);
    for (const { path, method, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`;
      expect([where, op.tags?.length]).toEqual([where, 1]);
      const statuses = Object.keys(op.responses);
      expect([where, statuses.some((s) => s.startsWith('2'))]).toEqual([where, true]);
      for (const status of statuses) {
        const content = op.responses[status].content;
        expect([where, status, content && Object.values(content).every((m) => m.schema)]).toEqual([where, status, true]);
        if (!status.startsWith('2'))
          expect([where, status, content!['application/json'].schema]).toEqual([where, status, { $ref: '#/components/schemas/Error' }]);
      }
    }
  });

  it('describes how every caller authenticates: a bearer token (not a JWT), each webhook its own way', () => {
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(doc.components.securitySchemes.bearer).not.toHaveProperty('bearerFormat');
    const security = (path: string) => doc.paths[path].post.security?.map((s) => Object.keys(s)[0]).sort();
    expect(security('/webhooks/zendesk')).toEqual(['zendeskSignature']);
    expect(security('/webhooks/servicenow')).toEqual(['servicenowBasic', 'servicenowSecret', 'servicenowSignature']);
    expect(security('/webhooks/generic')).toEqual(['standardWebhooks']);
    expect(security('/webhooks/beyondtrust')).toEqual(['beyondtrustToken', 'beyondtrustTokenHeader']);
    expect(doc.components.securitySchemes.beyondtrustToken).toEqual(
      expect.objectContaining({ type: 'apiKey', in: 'query', name: 'token' }),
    );
    expect(doc.components.securitySchemes.standardWebhooks).toEqual(expect.objectContaining({ in: 'header', name: 'webhook-signature' }));
    for (const { path, op } of operations(doc).filter(({ path }) => path.startsWith('/api/v1/')))
      expect([path, op.security]).toEqual([path, [{ bearer: [] }]]);
  });

  it('marks optional headers optional (Idempotency-Key) and lists it once', () => {
    for (const action of ['session-key', 'jump', 'cobrowse']) {
      const headers = doc.paths[`/api/v1/tickets/{system}/{ticketId}/${action}`].post.parameters!.filter((p) => p.in === 'header');
      expect(headers).toEqual([expect.objectContaining({ name: 'idempotency-key', required: false })]);
    }
    expect(doc.paths['/readyz'].get.parameters).toEqual([expect.objectContaining({ name: 'verbose', required: false })]);
  });

  it('has only examples that are valid against their schemas', () => {
    const examples: { where: string; schema: object; value: unknown }[] = [];
    const media = (where: string, content?: Record<string, Media>) => {
      for (const [type, m] of Object.entries(content ?? {})) {
        if (m.example !== undefined) examples.push({ where: `${where} ${type}`, schema: m.schema!, value: m.example });
        for (const [name, e] of Object.entries(m.examples ?? {}))
          examples.push({ where: `${where} ${type} ${name}`, schema: m.schema!, value: e.value });
      }
    };
    for (const { path, method, op } of operations(doc)) {
      media(`${method} ${path} request`, op.requestBody?.content);
      for (const [status, response] of Object.entries(op.responses)) media(`${method} ${path} ${status}`, response.content);
    }
    expect(examples.length).toBeGreaterThanOrEqual(30);
    expect(examples.map((e) => [e.where, validate(e.schema, e.value)])).toEqual(examples.map((e) => [e.where, []]));
    // The check itself rejects what does not fit.
    expect(validate({ $ref: '#/components/schemas/SessionKey' }, { shortKey: 4711 })).not.toEqual([]);
  });

  it("matches the service's live answers", async () => {
    const get = async (path: string, token = TEST_API_TOKEN) =>
      (await fetch(`${sut.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();
    const answers: [string, unknown][] = [
      ['Status', await get('/api/v1/status')],
      ['QueueCounts', await get('/api/v1/admin/queues')],
      ['FailedJobs', await get('/api/v1/admin/queues/ticket-events/failed')],
      ['TicketLinks', await get('/api/v1/admin/links/tickets/zendesk/1042')],
      ['Error', await get('/api/v1/admin/sessions/unknown-lsid')],
      ['Error', await get('/api/v1/status', 'not-a-token-0123456789')],
      ['Liveness', await get('/healthz')],
      ['Readiness', await get('/readyz')],
    ];
    expect(answers.map(([name, body]) => [name, validate({ $ref: `#/components/schemas/${name}` }, body)])).toEqual(
      answers.map(([name]) => [name, []]),
    );
  });
});
