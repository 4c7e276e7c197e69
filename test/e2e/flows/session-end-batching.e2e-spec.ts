import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { startFakeBridge, FakeBridge } from '../../support/fake-bridge';
import { RunningApp } from '../../support/app';
import { until } from '../../support/child';
import { LinkStore } from '../../../src/sessions/link.store';

/** Session-end report pulls through the real app, the fake appliance and the fake Zendesk. */
describe('Session end → batched report pulls', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  const at = Math.floor(Date.now() / 1000) - 600;

  let bridge: FakeBridge;

  beforeAll(async () => {
    bridge = await startFakeBridge({ RSB_REPORT_BATCH_WINDOW_MS: '750' });
    ({ appliance, zendesk, sut } = bridge);
  });
  afterAll(() => bridge?.stop());

  const reportRequests = (from = 0) =>
    appliance.requests.slice(from).filter((r) => r.path === '/api/reporting' && r.params.generate_report === 'SupportSession');

  const linkedSession = async (ticketId: string) => {
    zendesk.createTicket(ticketId);
    await sut.app.get(LinkStore).record({
      system: 'zendesk',
      ticketId,
      ticketNumber: ticketId,
      externalKey: `ZD-${ticketId}`,
      shortKey: '1234567',
      createdAt: new Date().toISOString(),
    });
    const s = appliance.startSession({ externalKey: `ZD-${ticketId}`, startTime: at });
    appliance.chat(s.lsid, 'customer', `hello from ${ticketId}`, at + 10);
    return s;
  };

  it('shares one SupportSession request (lsids=) among sessions that end together; unrelated sessions cost none', async () => {
    const from = appliance.requests.length;
    const linked = await Promise.all(Array.from({ length: 12 }, (_, i) => linkedSession(String(7100 + i))));
    // Beside each ticket's session, one whose external key leads to no ticket (auto-create is off).
    const unrelated = linked.map((_, i) => appliance.startSession({ externalKey: `walk-in-${i}`, startTime: at }));
    for (const [i, s] of linked.entries()) {
      appliance.endSession(s.lsid, at + 60);
      appliance.endSession(unrelated[i].lsid, at + 60);
    }
    await until(
      async () => linked.every((_, i) => (zendesk.tickets.get(String(7100 + i))?.comments.length ?? 0) >= 1),
      60_000,
      'a note on every ticket',
    );
    await appliance.outboundDrained();
    for (const [i] of linked.entries()) {
      const comments = zendesk.tickets.get(String(7100 + i))!.comments;
      expect(comments).toHaveLength(1);
      expect(comments[0].body).toContain(`hello from ${7100 + i}`);
    }
    const requests = reportRequests(from);
    const asked = requests.flatMap((r) => (r.params.lsids ?? r.params.lsid ?? '').split(','));
    // Every linked session was asked for (at least) once, no unrelated one ever.
    for (const s of linked) expect(asked).toContain(s.lsid);
    for (const s of unrelated) expect(asked).not.toContain(s.lsid);
    expect(requests.some((r) => (r.params.lsids ?? '').split(',').length > 1)).toBe(true);
    // 24 ended sessions: at most 0.3 report requests each.
    expect(requests.length).toBeLessThanOrEqual(Math.floor(0.3 * 24));
  });

  it('does not hold a lone session back by more than the window and a little', async () => {
    const s = await linkedSession('7200');
    const from = appliance.requests.length;
    const ended = Date.now();
    appliance.endSession(s.lsid, at + 60);
    await until(async () => (zendesk.tickets.get('7200')?.comments.length ?? 0) === 1, 20_000, 'the note');
    const [request] = reportRequests(from);
    expect(request.params.lsid ?? request.params.lsids).toBe(s.lsid);
    expect(request.at - ended).toBeLessThan(2_000);
  });
});
