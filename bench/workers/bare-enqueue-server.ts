/**
 * The baseline of the webhook benchmark: a bare Fastify handler that does the same Redis enqueue as
 * rs-bridge's webhook (BullMQ add with a deterministic job id) and answers 202, nothing else.
 */
import { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import Fastify from 'fastify';

async function main(): Promise<void> {
  const queue = new Queue('ticket-events', {
    connection: { url: process.env.REDIS_URL, enableOfflineQueue: false, maxRetriesPerRequest: null },
    prefix: process.env.PREFIX,
  });
  const app = Fastify();
  app.post('/webhooks/zendesk', async (request, reply) => {
    const id = String(request.headers['x-zendesk-webhook-invocation-id']);
    const jobId = `zendesk-${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
    await queue.add('session.requested', request.body as object, { jobId, attempts: 15, backoff: { type: 'exponential', delay: 2000 } });
    return reply.code(202).send({ jobId });
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.stdout.write('listening on\n');
}

void main();
