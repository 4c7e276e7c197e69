import { Queue } from 'bullmq';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUEUES } from '../../src/jobs/queues';
import { startApp } from '../support/app';
import { until } from '../support/child';
import { REDIS_URL, uniquePrefix } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';

const version = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();
/** The value of one series in the text format, or undefined when the scrape does not carry it. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('GET /metrics', () => {
  it('carries the process and Node.js metrics and rsb_build_info with the package version', async () => {
    const sut = await startApp();
    try {
      const text = await scrape(sut.url);
      for (const name of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
        'nodejs_heap_size_used_bytes',
      ])
        expect(text).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? \\d`, 'm'));
      expect(sample(text, `rsb_build_info{version="${version}",node="${process.version}"}`)).toBe(1);
      expect(sample(text, 'rsb_redis_up')).toBe(1);
    } finally {
      await sut.close();
    }
  });

  it('reports the same Redis-wide queue depth from every pod, so max() (not sum()) is the deployment total', async () => {
    const prefix = uniquePrefix('metrics');
    const [a, b] = await Promise.all([
      startApp({ RSB_REDIS_PREFIX: prefix, RSB_ROLE: 'api' }),
      startApp({ RSB_REDIS_PREFIX: prefix, RSB_ROLE: 'api' }),
    ]);
    const queue = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix });
    try {
      await queue.addBulk([1, 2, 3].map((n) => ({ name: 'waiting', data: { n }, opts: { delay: 60_000 } })));
      const series = `rsb_queue_jobs{queue="${QUEUES.ticketEvents}",state="delayed"}`;
      const values = [sample(await scrape(a.url), series), sample(await scrape(b.url), series)];
      expect(values).toEqual([3, 3]);
    } finally {
      await queue.close();
      await a.close();
      await b.close();
    }
  });

  it('answers without Redis: rsb_redis_up 0 and no stale queue depths, within the read deadline', async () => {
    const [host, port] = new URL(REDIS_URL).host.split(':');
    const proxy = await new TcpProxy(host, Number(port || 6379)).start();
    const sut = await startApp({ REDIS_URL: proxy.url });
    try {
      const before = await scrape(sut.url);
      expect(sample(before, 'rsb_redis_up')).toBe(1);
      expect(before).toContain('rsb_queue_jobs{');
      await proxy.cut();
      const startedAt = Date.now();
      const res = await fetch(`${sut.url}/metrics`);
      expect(res.status).toBe(200);
      const after = await res.text();
      expect(Date.now() - startedAt).toBeLessThan(3_000);
      expect(sample(after, 'rsb_redis_up')).toBe(0);
      expect(after).not.toContain('rsb_queue_jobs{');
      expect(after).toContain('process_cpu_seconds_total');
    } finally {
      await proxy.restore();
      // Closing the queues needs their connections back (as in the overload test).
      await until(async () => sample(await scrape(sut.url), 'rsb_redis_up') === 1, 15_000, 'Redis back');
      await sut.close();
      await proxy.stop();
    }
  });
});
