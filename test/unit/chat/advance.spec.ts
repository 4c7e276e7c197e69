import type { SessionEvent, SupportSessionReport } from '../../../src/beyondtrust/reporting.types';
import { advance } from '../../../src/chat/chat-watch.service';
import type { Escalation } from '../../../src/chat/escalation.store';

const escalation = (over: Partial<Escalation> = {}): Escalation => ({
  id: 'esc-1',
  lsid: 'ls-1',
  externalKey: 'k',
  shortKey: '123',
  queueId: 'general',
  state: 'queued',
  callbackUrl: 'https://bot.example.com/cb',
  downloadUrl: 'https://support.example.com/s',
  createdAt: '2026-01-01T00:00:00.000Z',
  representatives: [],
  cursor: 0,
  ...over,
});

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
const ev = (over: Partial<SessionEvent>): SessionEvent => ({
  timestamp: T0,
  type: 'Chat Message',
  files: [],
  data: {},
  attributes: {},
  ...over,
});
const report = (events: SessionEvent[], endTime?: number): SupportSessionReport =>
  ({
    lsid: 'ls-1',
    events,
    ...(endTime ? { endTime: { iso: new Date(endTime * 1000).toISOString() } } : {}),
  }) as unknown as SupportSessionReport;
const rep = (name: string) => ({ type: 'representative', name }) as SessionEvent['performedBy'];

describe('the escalation state machine (advance)', () => {
  it('queued → active when a representative joins, then a transfer, then ended', () => {
    const events = [
      ev({ type: 'Conference Owner Changed', performedBy: rep('Ann'), timestamp: T0 + 1 }),
      ev({ type: 'Chat Message', performedBy: rep('Ann'), body: 'Hello', timestamp: T0 + 2 }),
      ev({ type: 'Conference Owner Changed', performedBy: rep('Bob'), timestamp: T0 + 3 }),
    ];
    const { next, outgoing } = advance(escalation(), report(events, T0 + 4));
    expect(outgoing.map((o) => [o.id, o.type])).toEqual([
      ['esc-1.accepted', 'escalation.accepted'],
      ['esc-1.1', 'escalation.message'],
      ['esc-1.2', 'escalation.transferred'],
      ['esc-1.ended', 'escalation.ended'],
    ]);
    expect(outgoing[2]).toMatchObject({ from: 'Ann', to: 'Bob' });
    expect(next).toMatchObject({ state: 'ended', owner: 'Bob', representatives: ['Ann', 'Bob'], cursor: 3 });
  });

  it('reads only past the cursor, so a second tick sends nothing twice', () => {
    const events = [ev({ type: 'Conference Owner Changed', performedBy: rep('Ann') }), ev({ performedBy: rep('Ann'), body: 'Hi' })];
    const first = advance(escalation(), report(events));
    const second = advance(first.next, report(events));
    expect(first.outgoing).toHaveLength(2);
    expect(second.outgoing).toEqual([]);
    expect(second.next.state).toBe('active');
  });

  it('never sends back a line rs-bridge sent itself, nor a customer line', () => {
    const events = [
      ev({ performedBy: rep('Ann'), body: 'replayed line', timestamp: T0 }),
      ev({ performedBy: { type: 'customer', name: 'Cy' } as SessionEvent['performedBy'], body: 'from the customer' }),
      ev({ performedBy: rep('Ann'), body: 'a real reply', timestamp: T0 + 5 }),
    ];
    const { next, outgoing } = advance(escalation({ state: 'active', owner: 'Ann' }), report(events), [
      { body: 'replayed line', at: T0 + 3 },
    ]);
    expect(outgoing.map((o) => o.text)).toEqual(['a real reply']);
    expect(next.echoed).toEqual([0]);
  });

  it('ends the escalation when the customer left through rs-bridge, even while the session goes on', () => {
    const { next, outgoing } = advance(escalation({ state: 'active' }), report([]), [], '2026-01-01T00:10:00.000Z');
    expect(next.state).toBe('ended');
    expect(outgoing).toEqual([expect.objectContaining({ type: 'escalation.ended', at: '2026-01-01T00:10:00.000Z' })]);
  });
});
