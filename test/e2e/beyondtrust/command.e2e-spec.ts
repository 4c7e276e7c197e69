import { BeyondTrustClient } from '../../../src/beyondtrust/beyondtrust.client';
import { BeyondTrustApiError } from '../../../src/beyondtrust/beyondtrust.errors';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { ClientHarness, withAccount } from './support';

describe('BeyondTrust command API against the fake appliance', () => {
  let fake: FakeAppliance;
  let harness: ClientHarness;
  let sut: BeyondTrustClient;

  beforeAll(async () => {
    fake = await new FakeAppliance().start();
    harness = new ClientHarness(fake);
    sut = harness.client();
  });
  afterAll(async () => {
    await harness.close();
    await fake.stop();
  });

  const lastCommand = () => fake.requests.filter((r) => r.path === '/api/command').pop()!;

  describe('generate_session_key', () => {
    it('sends every parameter and returns the typed key', async () => {
      const key = await sut.command.generateSessionKey({
        queueId: 'team:1',
        externalKey: 'INC0012345',
        custom: { ticket_id: '12345', customer_email: 'casey@example.com' },
        priority: 1,
        skills: ['windows', 'printing'],
        ttl: 3600,
        urlHostname: 'help.example.com',
      });
      expect(lastCommand().params).toEqual({
        action: 'generate_session_key',
        type: 'support',
        queue_id: 'team:1',
        'session.custom.external_key': 'INC0012345',
        'session.custom.ticket_id': '12345',
        'session.custom.customer_email': 'casey@example.com',
        'session.priority': '1',
        'session.skills': 'windows,printing',
        ttl: '3600',
        url_hostname: 'help.example.com',
      });
      expect(key).toMatchObject({
        type: 'support',
        ttl: 3600,
        queue: { type: 'team', available: true },
        queueId: '1',
        externalKey: 'INC0012345',
      });
      expect(key.shortKey).toMatch(/^\d{7}$/);
      expect(key.keyUrl).toBe(`https://help.example.com/?ak=${key.shortKey}`);
      // The fake writes <expires> as UNIX seconds: it must read as that instant, never NaN.
      expect(key.expires!.unix).toBeGreaterThan(Date.now() / 1000 + 3500);
      expect(key.expires!.iso).toBe(new Date(key.expires!.unix * 1000).toISOString().replace('.000Z', 'Z'));
    });

    it('surfaces the appliance <error> for an unknown queue', async () => {
      await expect(sut.command.generateSessionKey({ queueId: 'team:99' })).rejects.toThrow(new BeyondTrustApiError('Invalid queue ID'));
    });

    it('checks the custom field limits before sending anything', async () => {
      const before = fake.requests.length;
      await expect(sut.command.generateSessionKey({ queueId: 'general', custom: { ticket_id: 'x'.repeat(1025) } })).rejects.toThrow(/1024/);
      await expect(sut.command.generateSessionKey({ queueId: 'queue:7' })).rejects.toThrow(/queue_id/);
      expect(fake.requests.length).toBe(before);
    });
  });

  it('lists logged-in representatives and support teams with members', async () => {
    const reps = await sut.command.getLoggedInReps();
    expect(reps.map((r) => r.id)).toEqual(['1', '2']);
    expect(reps[0]).toMatchObject({ publicDisplayName: 'Ada Admin', type: 'Normal', showingOnRepList: true });
    const teams = await sut.command.getSupportTeams({ showMembers: true });
    expect(teams[0]).toMatchObject({ id: '1', name: 'Service Desk', issues: [{ id: '1', title: 'Printing' }] });
    expect(teams[1].members!.map((m) => m.username)).toEqual(['bob', 'carol']);
    expect((await sut.command.getSupportTeams())[0].members).toBeUndefined();
  });

  it('sets a representative status', async () => {
    await expect(sut.command.setRepStatus(1, 'busy')).resolves.toBe('Status set');
    await expect(sut.command.setRepStatus(3, 'busy')).rejects.toThrow('Representative is not logged in');
  });

  it('runs a chat-bot escalation: virtual customer, chat, transfer, attributes, leave', async () => {
    const key = await sut.command.generateSessionKey({ queueId: 'team:1', externalKey: 'BOT-1' });
    const { downloadUrl } = await sut.command.createVirtualCustomer({
      shortKey: key.shortKey,
      name: 'Casey',
      ipAddress: '198.51.100.4',
      operatingSystem: 'Web',
      computerName: 'browser',
    });
    expect(downloadUrl).toContain(key.shortKey);
    await expect(
      sut.command.createVirtualCustomer({
        shortKey: key.shortKey,
        name: 'Casey',
        ipAddress: '1.1.1.1',
        operatingSystem: 'Web',
        computerName: 'b',
      }),
    ).rejects.toThrow('already been used');

    const session = [...fake.sessions.values()].find((s) => s.externalKey === 'BOT-1')!;
    const earlier = Math.floor(Date.now() / 1000) - 120;
    await sut.command.sendChatMessage({ lsid: session.lsid, body: 'printer is on fire', impersonate: 'customer', timestamp: earlier });
    await sut.command.sendChatMessage({ lsid: session.lsid, body: 'Bot: handing over' });
    expect(session.events.filter((e) => e.type === 'Chat Message').map((e) => [e.performedBy!.type, e.body, e.timestamp])).toEqual([
      ['customer', 'printer is on fire', earlier],
      ['system', 'Bot: handing over', expect.any(Number)],
    ]);
    await expect(sut.command.sendChatMessage({ lsid: session.lsid, body: 'x', impersonate: { repId: 1 } })).rejects.toThrow(
      'The representative is not in the session',
    );

    await expect(sut.command.joinSession(session.lsid, { repId: 1 })).resolves.toBe('Representative successfully added');
    await sut.command.sendChatMessage({ lsid: session.lsid, body: 'hi, Ada here', impersonate: { repUsername: 'admin' } });
    await expect(sut.command.transferSession(session.lsid, 'team:2')).resolves.toBe('Successfully transferred');
    await sut.command.setSessionAttributes(session.lsid, { externalKey: 'INC777', custom: { ticket_id: '777' } });
    expect(await sut.command.getSessionAttributes(session.lsid)).toEqual(
      expect.arrayContaining([
        { codeName: 'external_key', displayName: 'external key', value: 'INC777' },
        { codeName: 'ticket_id', displayName: 'ticket id', value: '777' },
      ]),
    );
    await expect(sut.command.leaveSession(session.lsid, { repUsername: 'admin' })).resolves.toBe('Representative successfully removed');
    await expect(sut.command.leaveSession(session.lsid, { customer: true })).resolves.toBe('Customer successfully removed');
    // The guide does not say the session ends when its (virtual) customer leaves: it is still there to end.
    await expect(sut.command.terminateSession(session.lsid)).resolves.toBe('Successfully terminated');
  });

  it('checks chat parameters before sending', async () => {
    await expect(sut.command.sendChatMessage({ teamId: 1, body: 'x', impersonate: 'customer' })).rejects.toThrow(/only with lsid/);
    await expect(sut.command.sendChatMessage({ lsid: 'a', body: 'x', timestamp: Date.now() / 1000 + 60 })).rejects.toThrow(/in the past/);
    await expect(sut.command.sendChatMessage({ lsid: 'a', body: '' })).rejects.toThrow(/empty/);
    await expect(sut.command.sendChatMessage({ teamId: 1, body: 'team notice', toRep: 2 })).resolves.toBe('Chat message sent');
  });

  it('terminates a session and reports an unknown lsid as an error', async () => {
    const session = fake.startSession();
    await expect(sut.command.terminateSession(session.lsid)).resolves.toBe('Successfully terminated');
    await expect(sut.command.getSessionAttributes('nope')).rejects.toThrow(new BeyondTrustApiError('Session not found'));
  });

  it('reads appliances, connected clients, health and API info', async () => {
    expect(await sut.command.getAppliances()).toEqual([
      {
        id: 'a1b2c3',
        name: 'fake-appliance',
        publicHostname: 'support.example.com',
        clusterRole: 'single',
        failoverRole: 'none',
        acceptingConnections: true,
        timezoneOffset: 0,
      },
    ]);
    const list = await sut.command.getConnectedClientList();
    expect(list.summary[0]).toMatchObject({ applianceId: 'a1b2c3', counts: { representative: 2 } });
    expect(list.clients.filter((c) => c.type === 'representative')).toHaveLength(2);
    expect((await sut.command.getConnectedClientList({ summaryOnly: true })).clients).toEqual([]);
    const clients = await sut.command.getConnectedClients({ types: ['representative'], ids: ['r1'] });
    expect(clients).toEqual([
      expect.objectContaining({ kind: 'representative', id: 'r1', fields: expect.objectContaining({ user_id: '1', username: 'admin' }) }),
    ]);
    await expect(sut.command.getConnectedClients({ ids: Array.from({ length: 101 }, (_, i) => `r${i}`) })).rejects.toThrow(/100 ids/);
    expect(await sut.command.checkHealth()).toMatchObject({
      appliance: 'support.example.com',
      applianceId: 'a1b2c3',
      success: true,
      failoverRole: 'none',
    });
    const info = await sut.command.getApiInfo();
    expect(info).toMatchObject({ apiVersion: '1.22.2', permissions: { perm_command: 'full_access', perm_reporting_support: '1' } });
  });

  it("reads get_connected_clients as the guide's element table lists it", async () => {
    const session = fake.startSession({ customerName: 'Zoë Müller' });
    fake.joinRep(session.lsid, '2');
    const [rep] = await sut.command.getConnectedClients({ types: ['representative'], ids: ['r2'] });
    expect(rep).toMatchObject({
      kind: 'representative',
      id: 'r2',
      hostname: 'bob-laptop',
      platform: 'Windows 11',
      platformId: 'winNT-64',
      supportSessionIds: [session.lsid],
      fields: expect.objectContaining({
        user_id: '2',
        type: 'Normal',
        public_display_name: 'Bob Tech',
        support_session_count: '1',
        routing_available: '1',
        support_license: 'representative',
      }),
    });
    // Without include_connections the guide sends no connected_since and no connections.
    expect(rep.connectedSince).toBeUndefined();
    expect(rep.connections).toBeUndefined();
    expect(lastCommand().params).toEqual({ action: 'get_connected_clients', type: 'representative', id: 'r2' });

    const withConnections = await sut.command.getConnectedClients({ types: ['support_customer'], includeConnections: true });
    const customer = withConnections.find((c) => c.fields.lsid === session.lsid)!;
    expect(customer).toMatchObject({
      kind: 'support_customer',
      fields: expect.objectContaining({ name: 'Zoë Müller', lsid: session.lsid }),
      connectedSince: { unix: expect.any(Number) },
      connections: [{ applianceId: 'a1b2c3', purpose: 'primary', receiveTrafficNode: false, privateIp: '10.0.0.7' }],
      eventLog: [{ at: { unix: expect.any(Number) }, text: 'Connected to a1b2c3 (primary)' }],
    });
    fake.endSession(session.lsid);
  });

  it('sets the failover role with or without a final data sync, and imports Jump shortcuts of each type', async () => {
    await expect(sut.command.setFailoverRole('primary', { dataSyncFirst: true })).resolves.toBe(
      'Successfully started data sync. Role change will occur upon successful completion',
    );
    expect(lastCommand().params).toMatchObject({ role: 'primary', data_sync_first: '1' });
    // "To fail over without a final data sync, set this to 0": the 0 must be sent, not left out.
    await expect(sut.command.setFailoverRole('backup', { dataSyncFirst: false, force: true })).resolves.toBe('Successfully changed role');
    expect(lastCommand().params).toEqual({ action: 'set_failover_role', role: 'backup', data_sync_first: '0', force: '1' });
    await expect(
      sut.command.importJumpShortcut('remote_rdp', {
        name: 'db01',
        remote_rdp_hostname: 'db01.corp',
        jumpoint: 'dc1',
        group: 'servers',
        rdp_username: 'admin',
      }),
    ).resolves.toBe('Successfully imported Jump Item shortcut');
    await expect(
      sut.command.importJumpShortcut('shell_jump', { name: 'web', shelljump_hostname: 'web01', jumpoint: 'dc1', group: 'servers' }),
    ).rejects.toThrow(/needs protocol/);
  });

  it('answers unknown actions and missing parameters with the appliance error', async () => {
    const transportError = sut.command.joinSession(fake.startSession().lsid, { repUsername: 'nobody' });
    await expect(transportError).rejects.toThrow('Representative not found');
  });

  describe('a read-only API account', () => {
    it('may read but gets the appliance error for a full-access command', () =>
      withAccount({ perm_command: 'read_only' }, async (client) => {
        await expect(client.command.getLoggedInReps()).resolves.toHaveLength(2);
        await expect(client.command.generateSessionKey({ queueId: 'general' })).rejects.toThrow(
          'The API account has read-only access to the command API.',
        );
      }));
  });
});
