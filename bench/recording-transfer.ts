/**
 * Recording transfer (issue 5): a 1 GiB recording from the fake appliance into the fake Zendesk through a
 * real rs-bridge worker process (dist/, RSB_ROLE=worker, real Redis). Figures: the worker's peak RSS
 * growth while it streams (target < 64 MiB) and its throughput as a ratio to piping the same two fake
 * servers together directly in this process, in the same run (target >= 0.8).
 * Run: npm run bench:recordings -- [MiB]
 */
import { Queue } from 'bullmq';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { RecordingJob, QUEUES } from '../src/jobs/queues';
import { FakeAppliance } from '../test/fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../test/fakes/zendesk/fake-zendesk';
import { freePort, until } from '../test/support/child';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../test/support/redis';
import { report, spawnApp } from './lib';

const MIB = Number(process.argv[2] ?? 1024);
const SIZE = MIB * 1024 * 1024;

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

/** The baseline: GET the recording from the appliance and pipe the response into a Zendesk upload. */
async function directPipe(appliance: FakeAppliance, zendesk: FakeZendesk, lsid: string): Promise<number> {
  const token = (await (
    await fetch(`${appliance.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('rsb-client:rsb-secret-0123456789').toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    })
  ).json()) as { access_token: string };
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    request(
      `${appliance.url}/api/reporting?generate_report=SupportSessionRecording&lsid=${lsid}`,
      { headers: { authorization: `Bearer ${token.access_token}` } },
      (download) => {
        const upload = request(
          `${zendesk.url}/api/v2/uploads.json?filename=direct.flv`,
          {
            method: 'POST',
            headers: {
              authorization: `Basic ${Buffer.from(`${zendesk.email}/token:${zendesk.apiToken}`).toString('base64')}`,
              'content-type': 'video/x-flv',
              'content-length': String(download.headers['content-length']),
            },
          },
          (res) => (res.resume(), res.on('end', resolve)),
        );
        upload.on('error', reject);
        download.pipe(upload);
      },
    )
      .on('error', reject)
      .end();
  });
  return performance.now() - started;
}

async function main(): Promise<void> {
  const appliance = await new FakeAppliance().start();
  const zendesk = await new FakeZendesk().start();
  zendesk.maxUploadBytes = Infinity;
  zendesk.createTicket('1');
  const prefix = uniquePrefix('bench-rec');
  const port = await freePort();
  const worker = spawnApp({
    RSB_REDIS_PREFIX: prefix,
    RSB_ROLE: 'worker',
    PORT: String(port),
    BT_SITE_URL: appliance.url,
    ZENDESK_BASE_URL: zendesk.url,
    ZENDESK_EMAIL: zendesk.email,
    ZENDESK_API_TOKEN: zendesk.apiToken,
    ZENDESK_WEBHOOK_SECRET: zendesk.webhookSecret,
    RSB_MAX_ATTACHMENT_BYTES: String(4 * 1024 ** 3),
  });
  const queue = new Queue<RecordingJob>(QUEUES.recordings, { connection: { url: REDIS_URL }, prefix });
  try {
    await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok, 30_000, 'the worker');
    const runs: { appMs: number; directMs: number; rssGrowthMiB: number }[] = [];
    for (let round = 0; round < 2; round += 1) {
      const session = appliance.startSession({ externalKey: '1' });
      appliance.addRecording(session.lsid, 'session', SIZE);
      appliance.endSession(session.lsid);
      const directMs = await directPipe(appliance, zendesk, session.lsid);

      await new Promise((r) => setTimeout(r, 1000));
      const baseline = rssOf(worker.pid!);
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, rssOf(worker.pid!))), 50);
      const started = performance.now();
      await queue.add(
        'transfer',
        { lsid: session.lsid, kind: 'session', instance: 0, ticket: { system: 'zendesk', id: '1', number: '1' } },
        { jobId: `bench-${session.lsid}` },
      );
      const ticket = zendesk.tickets.get('1')!;
      const before = ticket.comments.length;
      await until(async () => ticket.comments.length > before, 600_000, 'the recording on the ticket');
      const appMs = performance.now() - started;
      clearInterval(sampler);
      const upload = ticket.comments.at(-1)!.attachments[0];
      if (upload.size !== SIZE) throw new Error(`uploaded ${upload.size} bytes, expected ${SIZE}`);
      runs.push({
        appMs: Math.round(appMs),
        directMs: Math.round(directMs),
        rssGrowthMiB: Number(((peak - baseline) / 2 ** 20).toFixed(1)),
      });
    }
    const last = runs.at(-1)!;
    report('recording-transfer', {
      recordingMiB: MIB,
      runs,
      appMiBPerSecond: Number((MIB / (last.appMs / 1000)).toFixed(1)),
      directMiBPerSecond: Number((MIB / (last.directMs / 1000)).toFixed(1)),
      throughputRatio: Number((last.directMs / last.appMs).toFixed(3)),
      peakRssGrowthMiB: Math.max(...runs.map((r) => r.rssGrowthMiB)),
      targets: 'peakRssGrowthMiB < 64, throughputRatio >= 0.8',
    });
  } finally {
    worker.kill('SIGTERM');
    await queue.close();
    await appliance.stop();
    await zendesk.stop();
    await deleteKeys(prefix);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
