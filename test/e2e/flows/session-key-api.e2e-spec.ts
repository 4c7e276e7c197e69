import { LinkStore } from '../../../src/sessions/link.store';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { startFakeBridge, FakeBridge } from '../../support/fake-bridge';
import { RunningApp, TEST_API_TOKEN } from '../../support/app';
import { json } from '../../support/http';

describe('POST /api/v1/tickets/{system}/{ticketId}/session-key (in-ticket buttons)', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let bridge: FakeBridge;

  beforeAll(async () => {
    // The poll on (it watches key expiries), so Zendesk may defer the key's note: this api role runs no poll itself.
    bridge = await startFakeBridge({ RSB_ROLE: 'api', BT_POLL_INTERVAL_SECONDS: '60' }, { events: false });
    ({ appliance, zendesk, sut } = bridge);
  });
  afterAll(() => bridge?.stop());

  const call = (path: string, body: object = {}, headers: Record<string, string> = {}) =>
    fetch(`${sut.url}/api/v1/tickets/${path}/session-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_TOKEN}`, ...headers },
      body: JSON.stringify(body),
    });

  it('returns the key at once and writes it to the ticket, in the api role alone', async () => {
    const ticket = zendesk.createTicket('201');
    const res = await call('zendesk/201', { subject: 'Printer', requester: { name: 'Casey', email: 'casey@example.com' } });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toEqual({
      shortKey: expect.stringMatching(/^\d{7}$/),
      keyUrl: expect.stringContaining(body.shortKey),
      expiresAt: expect.any(String),
      queue: 'general',
      available: true,
      externalKey: '201',
    });
    // Written before the answer; Zendesk's one comment per update defers the key's note to the session's note.
    expect(ticket.comments.map((c) => c.public)).toEqual([true]);
    expect((await sut.app.get(LinkStore).byExternalKey('201'))?.keyNote).toContain(`Remote support session key ${body.shortKey}`);
  });

  it('returns the same key for a retried call with the same Idempotency-Key', async () => {
    zendesk.createTicket('202');
    const first = await json(await call('zendesk/202', {}, { 'idempotency-key': 'button-click-1' }));
    const second = await json(await call('zendesk/202', {}, { 'idempotency-key': 'button-click-1' }));
    expect(second.shortKey).toBe(first.shortKey);
    expect(appliance.requests.filter((r) => r.params['session.custom.external_key'] === '202')).toHaveLength(1);
  });

  it("never hands one ticket's key to another that sends the same Idempotency-Key", async () => {
    const other = zendesk.createTicket('205');
    zendesk.createTicket('204');
    const first = await json(await call('zendesk/204', {}, { 'idempotency-key': 'button-click-2' }));
    const second = await json(await call('zendesk/205', {}, { 'idempotency-key': 'button-click-2' }));
    expect(second.shortKey).not.toBe(first.shortKey);
    expect(second.externalKey).toBe('205');
    expect(other.comments.filter((c) => c.public)).toHaveLength(1);
  });

  it('answers 422 with the appliance reason when it refuses, and notes it on the ticket', async () => {
    const ticket = zendesk.createTicket('203');
    const permissions = appliance.accounts.get('rsb-client')!.permissions;
    permissions.perm_command = 'read_only';
    try {
      const res = await call('zendesk/203');
      expect(res.status).toBe(422);
      expect((await json(res)).error).toMatchObject({ code: 'session_key_refused', message: expect.stringContaining('read-only access') });
    } finally {
      permissions.perm_command = 'full_access';
    }
    expect(ticket.comments).toEqual([
      expect.objectContaining({ public: false, body: expect.stringContaining('read-only access to the command API') }),
    ]);
  });

  it('answers 404 when the ticket system has no such ticket, naming the vendor error', async () => {
    const res = await call('zendesk/999999');
    expect(res.status).toBe(404);
    expect((await json(res)).error).toMatchObject({
      code: 'ticket_not_found',
      message: expect.stringMatching(/zendesk: HTTP 404: RecordNotFound/),
    });
  });

  it.each([
    ['an unconfigured system', 'servicenow/0123456789abcdef0123456789abcdef', {}, {}, 404],
    ['an unknown system', 'jira/1', {}, {}, 404],
    ['a malformed ticket id', 'zendesk/abc', {}, {}, 400],
    ['an unknown body field', 'zendesk/1', { colour: 'red' }, {}, 400],
    ['no token', 'zendesk/1', {}, { authorization: '' }, 401],
  ])('refuses %s', async (_name, path, body, headers, status) => {
    expect((await call(path, body, headers)).status).toBe(status);
  });
});
