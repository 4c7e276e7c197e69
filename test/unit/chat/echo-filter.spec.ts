import type { SessionEvent, SupportSessionReport } from '../../../src/beyondtrust/reporting.types';
import { advance, ECHO_WINDOW_SECONDS } from '../../../src/chat/chat-watch.service';
import type { Escalation } from '../../../src/chat/escalation.store';

const escalation: Escalation = {
  id: 'e1',
  lsid: 'l1',
  externalKey: 'esc-e1',
  shortKey: '1234567',
  queueId: 'team:1',
  state: 'active',
  callbackUrl: 'https://bot.example.com',
  downloadUrl: 'https://support.example.com/x',
  createdAt: '2026-01-01T00:00:00Z',
  representatives: ['Bob'],
  owner: 'Bob',
  cursor: 0,
};
const line = (body: string, timestamp: number, type: 'representative' | 'system' | 'customer' = 'representative'): SessionEvent => ({
  type: 'Chat Message',
  timestamp,
  body,
  performedBy: { type, name: type === 'representative' ? 'Bob' : type, gsnumber: '12' },
  files: [],
  data: {},
  attributes: {},
});
const report = (events: SessionEvent[]) => ({ lsid: 'l1', events }) as unknown as SupportSessionReport;
const texts = (r: ReturnType<typeof advance>) => r.outgoing.map((o) => o.text);

describe('the chat relay knows its own lines by what it sent', () => {
  it('drops a sent line however the report labels its sender, once per line sent', () => {
    const sent = [{ body: 'Bot: Have you tried turning it off?', at: 1000 }];
    const sut = advance(
      escalation,
      report([line('Bot: Have you tried turning it off?', 1000), line('Bot: Have you tried turning it off?', 1030)]),
      sent,
    );
    // The second one is the representative saying the same words: theirs.
    expect(texts(sut)).toEqual(['Bot: Have you tried turning it off?']);
    expect(sut.outgoing[0].id).toBe('e1.1');
    expect(sut.next.echoed).toEqual([0]);
  });

  it('remembers across ticks which sent lines were already seen', () => {
    const sent = [{ body: 'ok', at: 1000 }];
    const first = advance(escalation, report([line('ok', 1001)]), sent);
    expect(texts(first)).toEqual([]);
    const second = advance(first.next, report([line('ok', 1001), line('ok', 1002)]), sent);
    expect(texts(second)).toEqual(['ok']);
  });

  it('matches within the time window only, and ignores the zero-width spaces that escape BBCode', () => {
    const sent = [{ body: 'It is [\u200Bb]still[\u200B/b] smoking', at: 1000 }];
    expect(texts(advance(escalation, report([line('It is [b]still[/b] smoking', 1000 + ECHO_WINDOW_SECONDS)]), sent))).toEqual([]);
    expect(texts(advance(escalation, report([line('It is [b]still[/b] smoking', 1001 + ECHO_WINDOW_SECONDS)]), sent))).toEqual([
      'It is [b]still[/b] smoking',
    ]);
  });

  it("never relays the customer's own lines, and ends the escalation once the customer left", () => {
    const sut = advance(
      escalation,
      report([line('hello', 1000, 'customer'), line('Anything else?', 1001)]),
      [],
      '2026-01-01T00:05:00.000Z',
    );
    expect(sut.outgoing.map((o) => [o.type, o.text ?? o.at])).toEqual([
      ['escalation.message', 'Anything else?'],
      ['escalation.ended', '2026-01-01T00:05:00.000Z'],
    ]);
    expect(sut.next.state).toBe('ended');
  });
});
