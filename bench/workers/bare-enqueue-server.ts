/**
 * The baselines of the webhook benchmark, without NestJS, rs-bridge's hooks, logs or metrics:
 * - bare (default): a Fastify handler that does the same Redis enqueue as rs-bridge's webhook (BullMQ
 *   add with a deterministic job id) and answers 202, nothing else; the baseline.
 * - CHECKS=1: the same handler, plus the work issue 4 requires of every webhook, done by rs-bridge's own
 *   compiled functions (dist/): the raw body kept, the signature verified, the body validated by the
 *   class-validator DTOs and normalised, the event enqueued with the app's job options. No
 *   implementation that keeps those checks can be faster than this, so its ratio to bare is the ceiling.
 */
import { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

function bare(queue: Queue): Handler {
  return async (request, reply) => {
    const id = String(request.headers['x-zendesk-webhook-invocation-id']);
    const jobId = `zendesk-${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
    await queue.add('session.requested', request.body as object, { jobId, attempts: 15, backoff: { type: 'exponential', delay: 2000 } });
    return reply.code(202).send({ jobId });
  };
}

/** The app's compiled code, loaded at run time: the ceiling measures what the app runs, not a copy of it. */
async function checked(queue: Queue, app: FastifyInstance): Promise<Handler> {
  await import('reflect-metadata');
  const dist = join(process.cwd(), 'dist');
  const load = async <T>(path: string): Promise<T> => (await import(join(dist, path))) as T;
  (await load<typeof import('../../src/http/validation-metadata-cache')>('http/validation-metadata-cache.js')).cacheValidationMetadata();
  const zendesk = await load<typeof import('../../src/tickets/zendesk/zendesk.webhook')>('tickets/zendesk/zendesk.webhook.js');
  const { enqueueTicketEvent } = await load<typeof import('../../src/jobs/enqueue')>('webhooks/enqueue.js');
  const { Rules } = await load<typeof import('../../src/config/rules')>('config/rules.js');
  const rules = new Rules();
  const config = { env: {}, rules, secrets: [] } as unknown as Parameters<typeof enqueueTicketEvent>[2];
  const secrets = [String(process.env.ZENDESK_WEBHOOK_SECRET)];
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    (request as FastifyRequest & { rawBody?: Buffer }).rawBody = body as Buffer;
    void parseJson(request, (body as Buffer).toString('utf8'), done);
  });
  return async (request, reply) => {
    const raw = (request as FastifyRequest & { rawBody: Buffer }).rawBody;
    const delivery = zendesk.verifyZendeskSignature(raw, request.headers, secrets, 300);
    const normalised = zendesk.normaliseZendesk(request.body, delivery.id, 'https://example.zendesk.com', rules);
    if ('ignored' in normalised) return reply.code(200).send(normalised);
    return reply.code(202).send({ jobId: await enqueueTicketEvent(queue, normalised.event, config) });
  };
}

async function main(): Promise<void> {
  const queue = new Queue('ticket-events', {
    connection: { url: process.env.REDIS_URL, enableOfflineQueue: false, maxRetriesPerRequest: null },
    prefix: process.env.PREFIX,
  });
  const app = Fastify();
  app.post('/webhooks/zendesk', process.env.CHECKS === '1' ? await checked(queue, app) : bare(queue));
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.stdout.write('listening on\n');
}

void main();
