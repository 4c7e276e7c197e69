import Redis from 'ioredis';
import { Readable } from 'node:stream';
import { TicketSystemError } from '../../../src/tickets/ticket-system.errors';
import { TicketPacer } from '../../../src/tickets/ticket-pacer';
import { ZendeskClient } from '../../../src/tickets/zendesk/zendesk.client';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../../support/redis';

/**
 * One Zendesk account's write budget shared by two "pods" (each its own Redis connection and client)
 * against the fake Zendesk enforcing its Update Ticket limit, on a compressed 4-second "minute".
 */
describe('Zendesk writes paced per account across pods (real Redis)', () => {
  const prefix = uniquePrefix('zdpace');
  const MINUTE = 4_000;
  let zendesk: FakeZendesk;
  const connections: Redis[] = [];
  let n = 0;

  beforeEach(async () => {
    zendesk = await new FakeZendesk().start();
    zendesk.rateWindowMs = MINUTE;
    zendesk.updateTicketLimitPerMinute = 10;
    for (let i = 1; i <= 40; i += 1) zendesk.createTicket(String(i));
  });
  afterEach(() => zendesk.stop());
  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await deleteKeys(prefix);
  });

  const pods = (count: number, perMinute: number) => {
    const key = `${prefix}:acct${(n += 1)}`;
    return Array.from({ length: count }, () => {
      const redis = new Redis(REDIS_URL);
      connections.push(redis);
      return new ZendeskClient({
        baseUrl: zendesk.url,
        email: zendesk.email,
        apiToken: zendesk.apiToken,
        pacer: new TicketPacer(redis, key, perMinute, MINUTE),
      });
    });
  };
  const note = (i: number) => ({ text: `note ${i}`, marker: `[m ${i}]` });

  it('drains a burst from two pods with no 429 at the allowed rate', async () => {
    const [a, b] = pods(2, 10);
    // Connections and code warmed first (a read is not an update): the first request of a cold process can
    // reach Zendesk a few hundred ms after its grant, more than a compressed minute's margin.
    await Promise.all([a.me(), b.me()]);
    const started = Date.now();
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).addNote(String(i + 1), note(i))));
    const took = Date.now() - started;
    expect(zendesk.updateTicketThrottled).toBe(0);
    expect([...zendesk.tickets.values()].reduce((sum, t) => sum + t.comments.length, 0)).toBe(30);
    // 10 a "minute": the third ten cannot start before two minutes have passed, nor take much longer.
    expect(took).toBeGreaterThanOrEqual(2 * MINUTE);
    expect(took).toBeLessThan(3.5 * MINUTE);
  });

  it('without the pacer the same burst meets the limit (the fake enforces it)', async () => {
    const bare = new ZendeskClient({ baseUrl: zendesk.url, email: zendesk.email, apiToken: zendesk.apiToken });
    const results = await Promise.allSettled(Array.from({ length: 15 }, (_, i) => bare.addNote(String(i + 1), note(i))));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(5);
    expect(zendesk.updateTicketThrottled).toBe(5);
  });

  it("lets a key's reply go before session-end notes already waiting", async () => {
    const [a, b] = pods(2, 10);
    const notes = Array.from({ length: 20 }, (_, i) => a.addNote(String(i + 1), note(i)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await b.update('40', { comment: { body: 'Your session key is 1234567', public: true } });
    const keyLanded = Date.now();
    await Promise.all(notes);
    const notesAfter = Date.now() - keyLanded;
    // The first ten notes took the first "minute"; the key took the first slot of the second, ahead of the other ten.
    expect(zendesk.tickets.get('40')!.comments).toHaveLength(1);
    expect(notesAfter).toBeGreaterThanOrEqual(MINUTE - 300);
    expect(zendesk.updateTicketThrottled).toBe(0);
  });

  it('keeps upload tokens for a retried comment: the file is neither downloaded nor uploaded again', async () => {
    const redis = new Redis(REDIS_URL);
    connections.push(redis);
    const client = new ZendeskClient({
      baseUrl: zendesk.url,
      email: zendesk.email,
      apiToken: zendesk.apiToken,
      uploads: { redis, prefix: `${prefix}:uploads` },
    });
    let opened = 0;
    const file = {
      filename: 'recording.mp4',
      contentType: 'video/mp4',
      open: async () => ((opened += 1), { stream: Readable.from([Buffer.alloc(4096, 7)]), length: 4096 }),
    };
    const withFile = { text: 'the transcript', marker: '[rs-bridge x note.1]', files: [file] };
    zendesk.updateTicketLimitPerMinute = 0;
    await expect(client.addNote('3', withFile)).rejects.toMatchObject({ status: 429 });
    zendesk.updateTicketLimitPerMinute = Infinity;
    await client.addNote('3', withFile);
    expect(opened).toBe(1);
    expect(zendesk.uploads.size).toBe(1);
    expect(zendesk.tickets.get('3')!.comments[0].attachments.map((a) => a.filename)).toEqual(['recording.mp4']);
  });

  it('a 429 with Retry-After pauses every pod', async () => {
    const [a, b] = pods(2, 100);
    zendesk.failNext(1, 429, '2');
    await expect(a.addNote('1', note(1))).rejects.toBeInstanceOf(TicketSystemError);
    const started = Date.now();
    await b.addNote('2', note(2));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_800);
  });
});
