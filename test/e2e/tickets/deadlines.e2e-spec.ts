import { Readable } from 'node:stream';
import { TicketSystemError } from '../../../src/tickets/ticket-system.errors';
import { ZendeskClient } from '../../../src/tickets/zendesk/zendesk.client';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { within } from '../../support/child';

/** A file of `size` bytes that, after `stallAfter` bytes, sends nothing more and never ends. */
function file(size: number, stallAfter = Infinity) {
  let sent = 0;
  return {
    filename: 'recording.flv',
    contentType: 'video/x-flv',
    open: async () => ({
      stream: new Readable({
        read() {
          if (sent >= stallAfter) return;
          if (sent >= size) return void this.push(null);
          const chunk = Buffer.alloc(Math.min(16 * 1024, size - sent), 7);
          sent += chunk.length;
          this.push(chunk);
        },
      }),
      length: size,
    }),
  };
}

describe('Ticket-system requests end within their deadline', () => {
  let zendesk: FakeZendesk;
  let sut: ZendeskClient;

  beforeEach(async () => {
    zendesk = await new FakeZendesk().start();
    zendesk.createTicket('1');
    sut = new ZendeskClient({ baseUrl: zendesk.url, email: zendesk.email, apiToken: zendesk.apiToken, timeoutMs: 800 });
  });
  afterEach(() => zendesk.stop());

  it('gives up on an upload Zendesk read to the end but never answered, and retries it as a new upload', async () => {
    zendesk.holdNext(1, 'POST', /^\/api\/v2\/uploads\.json/);
    const note = { text: 'Session recording', marker: '[m]', files: [file(300_000)] };
    const started = Date.now();
    const error = await within(10_000, sut.addNote('1', note));
    expect(error).toBeInstanceOf(TicketSystemError);
    expect(error).toMatchObject({ retryable: true, message: 'zendesk: no answer within 800 ms after the upload' });
    expect(Date.now() - started).toBeLessThan(3_000);
    // Zendesk had the whole file; the retry (a new job attempt) uploads it again and writes the comment once.
    expect([...zendesk.uploads.values()].map((u) => u.size)).toEqual([300_000]);
    await sut.addNote('1', { ...note, files: [file(300_000)] });
    expect(zendesk.tickets.get('1')!.comments).toHaveLength(1);
    expect(zendesk.tickets.get('1')!.comments[0].attachments.map((a) => a.size)).toEqual([300_000]);
  });

  it('gives up on an upload that stops moving', async () => {
    const error = await within(10_000, sut.addNote('1', { text: 'x', marker: '[m]', files: [file(300_000, 100_000)] }));
    expect(error).toMatchObject({ retryable: true, message: 'zendesk: the upload stalled: no byte sent for 800 ms' });
    expect(zendesk.tickets.get('1')!.comments).toHaveLength(0);
  });

  it('gives up on an answer trickling in a byte every 300 ms once the deadline has passed in total', async () => {
    zendesk.trickleNext(1, 300);
    const started = Date.now();
    const error = await within(10_000, sut.update('1', { fields: { '360000111': 'x' } }));
    expect(error).toMatchObject({ retryable: true, message: 'zendesk: no answer within 800 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
