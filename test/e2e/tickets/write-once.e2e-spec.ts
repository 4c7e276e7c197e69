import { loadConfig } from '../../../src/config/load-config';
import { RedisService } from '../../../src/redis/redis.service';
import { DeliveryStore } from '../../../src/sessions/delivery.store';
import { ServiceNowClient } from '../../../src/tickets/servicenow/servicenow.client';
import { TicketWriter } from '../../../src/tickets/ticket-writer';
import { writeMarker, writeOnce } from '../../../src/tickets/write-once';
import { ZendeskClient } from '../../../src/tickets/zendesk/zendesk.client';
import { FakeServiceNow } from '../../fakes/servicenow/fake-servicenow';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../../support/redis';

const REPLY = 'To start your remote support session, open https://support.example.com/?ak=4417200\nor enter the code 4417200.';

/**
 * The write-once helper against the real clients and the fake ticket systems, from the state a crash
 * leaves: a step begun in Redis, its write landed (or not) on the ticket, nothing recorded after it.
 */
describe.each(['zendesk', 'servicenow'] as const)('Write-once on %s after a crash', (system) => {
  let zendesk: FakeZendesk;
  let servicenow: FakeServiceNow;
  let redis: RedisService;
  let deliveries: DeliveryStore;
  let writer: TicketWriter;
  let ticketId: string;
  let comments: () => { body: string; public: boolean }[];
  const prefix = uniquePrefix('once');
  let n = 0;

  beforeAll(async () => {
    zendesk = await new FakeZendesk().start();
    servicenow = await new FakeServiceNow().start();
    redis = new RedisService(loadConfig({ REDIS_URL, RSB_REDIS_PREFIX: prefix }));
    deliveries = new DeliveryStore(redis);
  });
  afterAll(async () => {
    await redis.onApplicationShutdown();
    await deleteKeys(prefix);
    await Promise.all([zendesk.stop(), servicenow.stop()]);
  });
  beforeEach(() => {
    n += 1;
    if (system === 'zendesk') {
      const ticket = zendesk.createTicket(String(100 + n));
      ticketId = ticket.id;
      writer = new ZendeskClient({ baseUrl: zendesk.url, email: zendesk.email, apiToken: zendesk.apiToken });
      comments = () => ticket.comments;
    } else {
      const record = servicenow.createRecord(`INC00100${n}`);
      ticketId = record.sys_id;
      writer = new ServiceNowClient({
        instanceUrl: servicenow.url,
        table: 'incident',
        username: servicenow.username,
        password: servicenow.password,
      });
      comments = () => [
        ...record.comments.map((body) => ({ body, public: true })),
        ...record.work_notes.map((body) => ({ body, public: false })),
      ];
    }
  });

  const step = (deliveryId: string, name: string, write: Parameters<typeof writeOnce>[4]) =>
    writeOnce(deliveries.ledger(system, deliveryId), name, writer, { ticketId, context: { deliveryId, step: name } }, write);

  it('finds a public reply that landed before the crash by its body, and does not post it again', async () => {
    const ledger = deliveries.ledger(system, `d${n}`);
    await ledger.begin('publicReply');
    // Zendesk and ServiceNow store the text re-wrapped or trimmed at times: whitespace does not count.
    await writer.update(ticketId, { comment: { body: `${REPLY.replace('\n', '\r\n')}  `, public: true } });
    expect(await step(`d${n}`, 'publicReply', { update: { comment: { body: REPLY, public: true } } })).toBe('found');
    expect(comments()).toHaveLength(1);
    expect(await ledger.isDone('publicReply')).toBe(true);
  });

  it('writes a begun public reply that never landed, without a machine marker', async () => {
    await deliveries.ledger(system, `d${n}`).begin('publicReply');
    expect(await step(`d${n}`, 'publicReply', { update: { comment: { body: REPLY, public: true } } })).toBe('written');
    expect(comments().map((c) => ({ body: c.body, public: c.public }))).toEqual([{ body: REPLY, public: true }]);
  });

  it('does not take an internal note holding the same text for the public reply', async () => {
    await deliveries.ledger(system, `d${n}`).begin('publicReply');
    await writer.update(ticketId, { comment: { body: REPLY, public: false } });
    expect(await step(`d${n}`, 'publicReply', { update: { comment: { body: REPLY, public: true } } })).toBe('written');
    expect(comments().filter((c) => c.public)).toHaveLength(1);
  });

  it("finds an internal note by its marker, and tells it from another delivery's note of the same text", async () => {
    const ledger = deliveries.ledger(system, `d${n}`);
    await ledger.begin('internalNote');
    await writer.update(ticketId, { comment: { body: `Key 4417200 created\n\n${writeMarker(`d${n}`, 'internalNote')}`, public: false } });
    expect(await step(`d${n}`, 'internalNote', { update: { comment: { body: 'Key 4417200 created', public: false } } })).toBe('found');
    expect(comments()).toHaveLength(1);

    // Another delivery's note on the same ticket, same text: its marker differs, so this one is written.
    await deliveries.ledger(system, `e${n}`).begin('internalNote');
    expect(await step(`e${n}`, 'internalNote', { update: { comment: { body: 'Key 4417200 created', public: false } } })).toBe('written');
    expect(comments()).toHaveLength(2);
    expect(comments()[1].body).toContain(writeMarker(`e${n}`, 'internalNote'));
  });

  it('skips a step recorded as done without asking the ticket system', async () => {
    const before = zendesk.requests.length + servicenow.requests.length;
    await deliveries.mark(system, `d${n}`, 'publicReply');
    expect(await step(`d${n}`, 'publicReply', { update: { comment: { body: REPLY, public: true } } })).toBe('done');
    expect(zendesk.requests.length + servicenow.requests.length).toBe(before);
  });
});

// Fields and tags alone: nothing to look for; writing them twice leaves the ticket as once.
describe('Write-once of field updates', () => {
  it('sets the same fields and tags again after a crash, which leaves the ticket as one write would', async () => {
    const zendesk = await new FakeZendesk().start();
    const prefix = uniquePrefix('once');
    const redis = new RedisService(loadConfig({ REDIS_URL, RSB_REDIS_PREFIX: prefix }));
    try {
      const ticket = zendesk.createTicket('7');
      const writer = new ZendeskClient({ baseUrl: zendesk.url, email: zendesk.email, apiToken: zendesk.apiToken });
      const ledger = new DeliveryStore(redis).ledger('zendesk', 'f1');
      const update = { fields: { '360000111': '4417200' }, addTags: ['rsb_key_sent'] };
      await ledger.begin('internalNote');
      await writer.update('7', update);
      const result = await writeOnce(
        ledger,
        'internalNote',
        writer,
        { ticketId: '7', context: { deliveryId: 'f1', step: 'internalNote' } },
        { update },
      );
      expect(result).toBe('written');
      expect(ticket.customFields).toEqual({ '360000111': '4417200' });
      expect(ticket.tags).toEqual(['rsb_key_sent']);
      expect(zendesk.requests.filter((r) => r.method === 'GET')).toHaveLength(0);
    } finally {
      await redis.onApplicationShutdown();
      await deleteKeys(prefix);
      await zendesk.stop();
    }
  });
});
