import { RealtimeStateClient, RowChange } from '../../../src/beyondtrust/realtime-state.client';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { until } from '../../support/child';
import { ClientHarness } from './support';

describe('Real-Time State API client against the fake appliance', () => {
  let fake: FakeAppliance;
  let harness: ClientHarness;
  let sut: RealtimeStateClient;

  beforeEach(async () => {
    fake = await new FakeAppliance().start();
    harness = new ClientHarness(fake);
    sut = new RealtimeStateClient({
      siteUrl: fake.url,
      tokens: harness.client().tokens,
      tables: 'all',
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
    });
  });
  afterEach(async () => {
    await sut.stop();
    await harness.close();
    await fake.stop();
  });

  const sessionRows = () => sut.rows('support_session').map((r) => r.lsid);

  it('authenticates, subscribes and keeps a copy of the tables through inserts and deletes', async () => {
    const before = fake.startSession({ externalKey: 'EARLY' });
    const ready = new Promise<number>((resolve) => sut.once('ready', resolve));
    const changes: RowChange[] = [];
    sut.on('change', (c: RowChange) => changes.push(c));
    sut.start();
    expect(Math.abs((await ready) - Date.now() / 1000)).toBeLessThan(5);

    // The initial full copy is large: the fake splits it over frames, the client reassembles it.
    await until(async () => sessionRows().includes(before.lsid), 5_000, 'the initial copy');
    expect(sut.rows('representative').map((r) => r.username)).toEqual(['admin', 'bob']);

    const later = fake.startSession();
    fake.joinRep(later.lsid, '2');
    const bob = fake.rowId('rep:2');
    await until(async () => sut.rows('representative_support_session').some((r) => r.representative_id === bob), 5_000, 'the join');
    fake.endSession(later.lsid);
    await until(async () => !sessionRows().includes(later.lsid), 5_000, 'the delete');
    expect(sessionRows()).toEqual([before.lsid]);
    expect(changes.filter((c) => c.table === 'support_session').map((c) => c.kind)).toEqual(['insert', 'insert', 'delete']);
  });

  it('keeps 64-bit row ids and foreign keys exact, as strings', async () => {
    sut.start();
    await new Promise((resolve) => sut.once('ready', resolve));
    const session = fake.startSession();
    fake.joinRep(session.lsid, '1');
    const sessionId = fake.rowId(`session:${session.lsid}`);
    const adaId = fake.rowId('rep:1');
    // Far beyond 2^53: JSON.parse would round these and the foreign keys would point at nothing.
    expect(BigInt(sessionId)).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
    await until(async () => sut.rows('representative_support_session').some((r) => r.support_session_id === sessionId), 5_000, 'the join');
    const member = sut.rows('representative_support_session').find((r) => r.support_session_id === sessionId)!;
    expect(member.representative_id).toBe(adaId);
    expect(sut.tables.get('support_session')!.get(String(member.support_session_id))!.lsid).toBe(session.lsid);
    expect(sut.tables.get('representative')!.get(adaId)).toMatchObject({ username: 'admin', user_id: '1' });
    expect([...sut.tables.get('representative')!.keys()]).toContain('18446744073709551615');
  });

  it('reconnects after the appliance drops it, starting again from a fresh copy', async () => {
    sut.start();
    await new Promise((resolve) => sut.once('ready', resolve));
    const gone = new Promise((resolve) => sut.once('disconnected', resolve));
    fake.dropRealtimeConnections();
    await gone;
    const missed = fake.startSession({ externalKey: 'WHILE-AWAY' });
    await until(async () => sut.connected && sessionRows().includes(missed.lsid), 5_000, 'the reconnection');
  });

  it('fetches a new token when the appliance refuses the current one', async () => {
    const errors: Error[] = [];
    sut.on('error', (e: Error) => errors.push(e));
    const tokens = harness.client().tokens;
    const stale = await tokens.get();
    // The secret is regenerated and set back: the stored token is dead, the credentials still work.
    const account = fake.accounts.get('rsb-client')!;
    const secret = account.clientSecret;
    fake.regenerateSecret('rsb-client');
    account.clientSecret = secret;
    sut.start();
    await until(async () => sut.connected, 5_000, 'a connection with a fresh token');
    expect(errors.map((e) => e.message)).toContain('real-time state API refused the token: invalid token');
    expect(await tokens.get()).not.toBe(stale);
  });
});
