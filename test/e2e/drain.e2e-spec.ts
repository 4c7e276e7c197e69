import { Queue } from 'bullmq';
import { standardWebhookHeaders } from '../../src/common/standard-webhooks';
import { QUEUES } from '../../src/jobs/queues';
import { freePort, spawnTs, until } from '../support/child';
import { Json, json } from '../support/http';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';

const SECRET = `whsec_${Buffer.from('drain-secret-0123456789abcdef').toString('base64')}`;
const DRAIN_SECONDS = 3;

interface Sent {
  id: string;
  startedAt: number;
  status?: number;
  jobId?: string;
  error?: string;
}

describe('SIGTERM during a rollout', () => {
  it('answers /readyz 503 at once, keeps taking webhooks for RSB_DRAIN_SECONDS, then closes: none refused, none lost', async () => {
    const prefix = uniquePrefix('drain');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawnTs('src/main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      RSB_ROLE: 'api',
      REDIS_URL,
      RSB_REDIS_PREFIX: prefix,
      GENERIC_WEBHOOK_SECRET: SECRET,
      RSB_DRAIN_SECONDS: String(DRAIN_SECONDS),
    });
    const queue = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix });
    const sent: Sent[] = [];
    let exitedAt = 0;
    void child.exited.then(() => (exitedAt = Date.now()));
    try {
      await child.waitForOutput(/listening on/, 60_000);
      // In rotation: the load balancer's probe has seen it ready.
      await until(async () => (await fetch(`${base}/readyz`)).status === 200, 15_000, 'readiness');

      let n = 0;
      const sendOne = async (): Promise<void> => {
        const id = `drain-${n++}`;
        const raw = JSON.stringify({ action: 'session.requested', ticket: { id, subject: 'Rollout' } });
        const entry: Sent = { id, startedAt: Date.now() };
        sent.push(entry);
        try {
          const res = await fetch(`${base}/webhooks/generic`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...standardWebhookHeaders(SECRET, id, raw) },
            body: raw,
          });
          entry.status = res.status;
          entry.jobId = res.status === 202 ? ((await json(res)).jobId as string) : undefined;
          if (res.status !== 202) await res.arrayBuffer();
        } catch (error) {
          entry.error = String((error as { cause?: { code?: string } }).cause?.code ?? error);
        }
      };
      // Two senders, as a busy ingress would, until the process is gone and the port refuses.
      const sender = async () => {
        while (exitedAt === 0 || Date.now() - exitedAt < 300) {
          await sendOne();
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      const senders = [sender(), sender()];
      await new Promise((r) => setTimeout(r, 500));

      const stoppedAt = Date.now();
      child.process.kill('SIGTERM');
      const notReady = await until(
        async () => {
          const res = await fetch(`${base}/readyz`);
          return res.status === 503 && ((await json(res)) as Json);
        },
        1_000,
        '/readyz to answer 503 while the process still serves',
      );
      expect(notReady.error.details.error.lifecycle).toMatchObject({ status: 'down', message: 'shutting down' });

      expect((await child.exited).code).toBe(0);
      await Promise.all(senders);

      // The listener served through the drain period and closed only after it.
      expect(exitedAt - stoppedAt).toBeGreaterThanOrEqual(DRAIN_SECONDS * 1000 - 100);
      const duringDrain = sent.filter((s) => s.startedAt >= stoppedAt && s.startedAt < stoppedAt + DRAIN_SECONDS * 1000 - 200);
      expect(duringDrain.length).toBeGreaterThan(20);
      expect(duringDrain.filter((s) => s.status !== 202)).toEqual([]);
      // And closed afterwards: the port refuses connections once the process is gone.
      expect(sent.filter((s) => s.startedAt > exitedAt).every((s) => s.error === 'ECONNREFUSED')).toBe(true);
      expect(sent.some((s) => s.startedAt > exitedAt)).toBe(true);

      // Nothing lost: every webhook that got its 202 has its job in Redis.
      const accepted = sent.filter((s) => s.status === 202);
      const missing: string[] = [];
      for (const s of accepted) if (!(await queue.getJob(s.jobId!))) missing.push(s.id);
      expect(missing).toEqual([]);
      // Every answer was an acknowledgement (no 503, no 5xx). Only a request that arrived as the listener
      // closed, after the drain, failed at the connection (the load balancer stopped sending by then).
      expect(sent.filter((s) => s.status !== undefined && s.status !== 202)).toEqual([]);
      const failed = sent.filter((s) => s.status === undefined);
      expect(failed.filter((s) => s.startedAt < stoppedAt + DRAIN_SECONDS * 1000 - 200)).toEqual([]);
      expect(failed.filter((s) => s.error !== 'ECONNREFUSED' && s.error !== 'ECONNRESET')).toEqual([]);
    } finally {
      child.process.kill('SIGKILL');
      await child.exited;
      await queue.close();
      await deleteKeys(prefix);
    }
  });
});
