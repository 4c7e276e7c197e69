import { createBullBoard } from '@bull-board/api';
import type { HTTPStatus } from '@bull-board/api/typings/app';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { DiscoveryService } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
// The storage class-transformer keeps @Type() in; its typings live apart from the CommonJS build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as { defaultMetadataStorage: unknown };
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { AppConfig } from '../config/load-config';
import { discoverQueues } from '../lifecycle/bullmq-instances';
import { VERSION } from '../version';
import { RESPONSE_SCHEMAS, SECURITY_SCHEMES } from './api-docs';
import { toErrorResponse } from './error-body';

const TAGS: Record<string, string> = {
  webhooks: 'Inbound webhooks from ticket systems and the BeyondTrust appliance, each signed its own way',
  tickets: "For in-ticket apps and buttons: session keys, Jump, co-browse and the ticket's sessions",
  chat: 'The chat bot API: hand a conversation to a representative',
  cobrowse: 'Upscope watch URLs',
  sessions: 'Remote support sessions',
  admin: 'Operators: status, failed jobs, retries, links',
  probes: 'Kubernetes probes and Prometheus metrics (no authentication; keep them inside the cluster)',
};

export const DASHBOARD_PATH = '/admin/queues';

/** Bull Board 7.2's adapter reads queue.client, which BullMQ 6 no longer has: its Redis tab answered 500. */
class DashboardQueueAdapter extends BullMQAdapter {
  constructor(private readonly bullQueue: Queue) {
    super(bullQueue);
  }

  override getClient() {
    return this.bullQueue.getBackend().client;
  }

  override async getRedisInfo(): Promise<string> {
    return (await this.getClient()).info();
  }
}
const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The OpenAPI document at /docs (UI) and /docs-json. Request bodies come from the class-validator DTOs
 * the endpoints validate with (class-validator-jsonschema), so the DTOs stay the single source.
 */
export function setupApiDocs(app: NestFastifyApplication): void {
  const builder = new DocumentBuilder()
    .setTitle('rs-bridge')
    .setDescription(
      'Helpdesk tickets ↔ BeyondTrust Remote Support and Upscope. /webhooks/* are authenticated by each system the way it can sign (see each operation); /api/v1/* take a bearer token from RSB_API_TOKENS. Every error answers {"error":{"code","message","details"?}}.',
    )
    .setVersion(VERSION)
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('/', 'The rs-bridge serving this document');
  for (const [name, description] of Object.entries(TAGS)) builder.addTag(name, description);
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) builder.addSecurity(name, scheme);
  // One tag per operation, the one its decorators name: Nest would add the controller's name as a second.
  const document = SwaggerModule.createDocument(app, builder.build(), { autoTagControllers: false });
  const schemas = validationMetadatasToSchemas({
    classTransformerMetadataStorage: defaultMetadataStorage as never,
    refPointerPrefix: '#/components/schemas/',
  });
  document.components = {
    ...document.components,
    schemas: { ...(document.components?.schemas ?? {}), ...(schemas as object), ...RESPONSE_SCHEMAS },
  };
  // class-validator-jsonschema describes every validated class (the configuration too): keep what the API uses.
  document.components.schemas = usedSchemas(document.paths, document.components.schemas!);
  // The JSON from Nest; the UI from swagger-ui-dist's files, served here (no static-file plugin needed).
  SwaggerModule.setup('docs', app, document, { ui: false, jsonDocumentUrl: 'docs-json' });
  const fastify = app.getHttpAdapter().getInstance();
  const assets = getAbsoluteFSPath();
  const files: Record<string, string> = {
    'swagger-ui.css': 'text/css; charset=utf-8',
    'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
    'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  };
  fastify.get('/docs', (_request, reply) => {
    void reply.header('content-type', 'text/html; charset=utf-8').send(DOCS_PAGE);
  });
  fastify.get('/docs/assets/:file', (request, reply) => {
    const file = (request.params as { file: string }).file;
    if (!Object.hasOwn(files, file)) return void reply.code(404).send({ error: { code: 'not_found', message: `No asset ${file}` } });
    void reply
      .header('content-type', files[file])
      .header('cache-control', 'public, max-age=86400')
      .send(createReadStream(join(assets, file)));
  });
}

/** The schemas reachable from the operations, following $refs. */
function usedSchemas<T>(paths: unknown, schemas: Record<string, T>): Record<string, T> {
  const used: Record<string, T> = {};
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      const name = key === '$ref' && typeof value === 'string' ? /^#\/components\/schemas\/(.+)$/.exec(value)?.[1] : undefined;
      if (name && !(name in used) && name in schemas) {
        used[name] = schemas[name];
        walk(schemas[name]);
      } else walk(value);
    }
  };
  walk(paths);
  return used;
}

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rs-bridge API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/docs-json', dom_id: '#swagger-ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });</script>
</body></html>`;

/**
 * Bull Board at /admin/queues, behind basic auth (RSB_ADMIN_USER / RSB_ADMIN_PASSWORD); absent when they
 * are unset. It shows every queue this process knows, with jobs, reasons and retry buttons.
 */
export async function setupQueueDashboard(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const { RSB_ADMIN_USER: user, RSB_ADMIN_PASSWORD: password } = config.env;
  if (!user || !password) return;
  const queues = new Map(discoverQueues(app.get(DiscoveryService)).map((q) => [q.name, q]));
  const serverAdapter = new BullBoardFastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: [...queues.values()].sort((a, b) => a.name.localeCompare(b.name)).map((q) => new DashboardQueueAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'rs-bridge queues' } },
  });
  // Bull Board's own handler answers 500 for anything that is not its own error (a 415, a body too deep).
  // Its UI shows `error` as a sentence in a toast, so its API keeps that shape, with our status and code.
  const logger = new Logger('QueueDashboard');
  serverAdapter.setErrorHandler((error: Error) => {
    const { status, body, unexpected } = toErrorResponse(error);
    if (unexpected) logger.error(`dashboard request failed: ${error.stack ?? error.message}`);
    return { status: status as HTTPStatus, body: { error: body.error.message, code: body.error.code } };
  });
  const expected = digest(`${user}:${password}`);
  await app.register(
    async (scope: FastifyInstance) => {
      // The flood guard's limit (when it is on) before the password check: route hooks run after scope
      // hooks, so without this a wrong password would be answered before it was counted.
      const limiter = (scope as FastifyInstance & { rateLimit?: () => onRequestHookHandler }).rateLimit;
      if (limiter) scope.addHook('onRequest', limiter());
      scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        const header = request.headers.authorization ?? '';
        const given = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
        if (!timingSafeEqual(digest(given), expected)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Basic realm="rs-bridge queues", charset="UTF-8"')
            .header('content-type', 'application/json; charset=utf-8')
            .send({
              error: { code: 'unauthorized', message: 'The queue dashboard needs RSB_ADMIN_USER and RSB_ADMIN_PASSWORD (basic auth).' },
            });
        }
      });
      await scope.register(serverAdapter.registerPlugin() as never);
    },
    { prefix: DASHBOARD_PATH },
  );
}
