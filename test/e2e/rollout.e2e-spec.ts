import { Queue } from 'bullmq';
import { standardWebhookHeaders } from '../../src/common/standard-webhooks';
import { QUEUES } from '../../src/jobs/queues';
import { Child, freePort, spawnTs, until } from '../support/child';
import { json } from '../support/http';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { TcpBalancer } from '../support/tcp-balancer';

const SECRET = `whsec_${Buffer.from('rollout-secret-0123456789abcd').toString('base64')}`;
const DRAIN_SECONDS = 2;

interface Sent {
  id: string;
  status?: number;
  jobId?: string;
  error?: string;
}

describe('a rollout behind a load balancer', () => {
  it('SIGTERM to one of two api processes while webhooks keep coming: 0 refused, 0 lost', async () => {
    const prefix = uniquePrefix('rollout');
    const ports = [await freePort(), await freePort()];
    const start = (port: number): Child =>
      spawnTs('src/main.ts', {
        PORT: String(port),
        HOST: '127.0.0.1',
        RSB_ROLE: 'api',
        REDIS_URL,
        RSB_REDIS_PREFIX: prefix,
        GENERIC_WEBHOOK_SECRET: SECRET,
        RSB_API_TOKENS: 'test-token-0123456789abcdef',
        // Longer than the balancer takes to see /readyz at 503 (its probe runs every 200 ms).
        RSB_DRAIN_SECONDS: String(DRAIN_SECONDS),
      });
    const children = ports.map(start);
    const queue = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix });
    const balancer = new TcpBalancer(ports);
    const sent: Sent[] = [];
    try {
      await Promise.all(children.map((c) => c.waitForOutput(/listening on/, 90_000)));
      await balancer.start();
      await until(async () => ports.every((p) => balancer.isReady(p)), 15_000, 'both backends ready');
      const base = `http://127.0.0.1:${balancer.port}`;

      let stop = false;
      let n = 0;
      const sender = async () => {
        while (!stop) {
          const id = `rollout-${n++}`;
          const raw = JSON.stringify({ action: 'session.requested', ticket: { id, subject: 'Rollout' } });
          const entry: Sent = { id };
          sent.push(entry);
          try {
            const res = await fetch(`${base}/webhooks/generic`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...standardWebhookHeaders(SECRET, id, raw) },
              body: raw,
            });
            entry.status = res.status;
            if (res.status === 202) entry.jobId = (await json(res)).jobId as string;
            else await res.arrayBuffer();
          } catch (error) {
            entry.error = String((error as { cause?: { code?: string } }).cause?.code ?? error);
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      // Three senders with keep-alive connections, as an ingress controller holds them.
      const senders = [sender(), sender(), sender()];
      await new Promise((r) => setTimeout(r, 500));
      const before = sent.length;

      children[0].process.kill('SIGTERM');
      expect((await children[0].exited).code).toBe(0);
      // The survivor takes everything for a while after the first process is gone.
      await new Promise((r) => setTimeout(r, 700));
      stop = true;
      await Promise.all(senders);

      expect(sent.length - before).toBeGreaterThan(50);
      expect(balancer.refused).toBe(0);
      expect(sent.filter((s) => s.status !== 202)).toEqual([]);
      const missing: string[] = [];
      for (const s of sent) if (!(await queue.getJob(s.jobId!))) missing.push(s.id);
      expect(missing).toEqual([]);
    } finally {
      await balancer.stop();
      for (const c of children) c.process.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      await queue.close();
      await deleteKeys(prefix);
    }
  }, 180_000);
});
