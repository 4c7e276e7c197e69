import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeServiceNow } from '../../fakes/servicenow/fake-servicenow';
import { FakeUpscope } from '../../fakes/upscope/fake-upscope';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { startFakeBridge, FakeBridge } from '../../support/fake-bridge';
import { RunningApp, TEST_API_TOKEN } from '../../support/app';
import { until } from '../../support/child';
import { json } from '../../support/http';

describe('In-ticket apps: the ticket sessions view, and Jump and co-browse from the ticket', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let servicenow: FakeServiceNow;
  let upscope: FakeUpscope;
  let sut: RunningApp;
  let bridge: FakeBridge;

  beforeAll(async () => {
    // Small enough that the Show My Screen recording below is linked instead of attached.
    bridge = await startFakeBridge({ RSB_MAX_ATTACHMENT_BYTES: String(200 * 1024) }, { servicenow: true, upscope: true });
    ({ appliance, zendesk, servicenow, upscope, sut } = bridge);
  });
  afterAll(() => bridge.stop());

  const api = (method: string, path: string, body?: object, headers: Record<string, string> = {}) =>
    fetch(`${sut.url}/api/v1/tickets/${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_TOKEN}`, ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
  const view = async (path: string) => {
    const res = await api('GET', `${path}/sessions`);
    expect(res.status).toBe(200);
    return json(res);
  };

  it('follows a key from issued through waiting and in progress to ended, with what was written back', async () => {
    const ticket = zendesk.createTicket('301');
    const key = await json(await api('POST', 'zendesk/301/session-key', { requester: { email: 'casey@example.com' } }));

    let body = await view('zendesk/301');
    expect(body).toEqual({
      ticket: { system: 'zendesk', id: '301', number: '301' },
      open: true,
      sessions: [
        {
          kind: 'session_key',
          state: 'key_issued',
          externalKey: '301',
          shortKey: key.shortKey,
          keyUrl: key.keyUrl,
          expiresAt: key.expiresAt,
          expired: false,
          queue: 'general',
          createdAt: expect.any(String),
          failures: [],
        },
      ],
    });

    const s = appliance.startSession({ externalKey: '301' });
    await until(async () => (await view('zendesk/301')).sessions[0].state === 'waiting', 10_000, 'the session waiting');
    body = await view('zendesk/301');
    expect(body.sessions).toHaveLength(1);
    expect(body.sessions[0]).toMatchObject({ lsid: s.lsid, shortKey: key.shortKey, queue: 'general', state: 'waiting' });

    appliance.joinRep(s.lsid, '2');
    await until(async () => (await view('zendesk/301')).sessions[0].state === 'in_progress', 10_000, 'the rep joining');
    expect((await view('zendesk/301')).sessions[0].representative).toBe(appliance.reps[1].username);

    appliance.addRecording(s.lsid, 'session', 64 * 1024);
    appliance.addRecording(s.lsid, 'showMyScreen', 300 * 1024);
    appliance.endSession(s.lsid, Math.floor(Date.now() / 1000) + 90);
    await until(
      async () => (await view('zendesk/301')).sessions[0].writtenBack?.recordings.length === 2,
      20_000,
      'the note and both recordings',
    );
    body = await view('zendesk/301');
    expect(body.open).toBe(false);
    expect(body.sessions[0]).toMatchObject({
      lsid: s.lsid,
      state: 'ended',
      shortKey: key.shortKey,
      representative: appliance.reps[1].username,
      durationSeconds: expect.any(Number),
      writtenBack: {
        transcriptNote: true,
        recordings: [
          { kind: 'session', instance: 0, result: 'attached', files: [expect.stringMatching(/^session-.*-session-0\./)] },
          { kind: 'showMyScreen', instance: 0, result: 'linked' },
        ],
      },
      failures: [],
    });
    expect(body.sessions[0].durationSeconds).toBeGreaterThanOrEqual(85);
    // The key's reply and note, then ONE session note carrying the recording under the cap and the link to the other.
    expect(ticket.comments).toHaveLength(3);
    expect(ticket.comments[2].attachments.map((a) => a.filename)).toEqual([
      expect.stringMatching(/-transcript\.html$/),
      expect.stringMatching(/-session-0\.flv$/),
    ]);
    expect(ticket.comments[2].body).toContain('Show My Screen recording 1');
  });

  it('lists a second key as its own entry, newest first, and pairs the session with the key it came from', async () => {
    zendesk.createTicket('302');
    const first = await json(await api('POST', 'zendesk/302/session-key', {}));
    const second = await json(await api('POST', 'zendesk/302/session-key', {}));
    const s = appliance.startSession({ externalKey: '302' });
    await until(async () => (await view('zendesk/302')).sessions.some((i: { lsid?: string }) => i.lsid === s.lsid), 10_000, 'the session');
    const body = await view('zendesk/302');
    expect(body.sessions.map((i: { shortKey: string; state: string }) => [i.shortKey, i.state])).toEqual([
      [second.shortKey, 'waiting'],
      [first.shortKey, 'key_issued'],
    ]);
  });

  it('shows why the transcript could not be written', async () => {
    zendesk.createTicket('303');
    await json(await api('POST', 'zendesk/303/session-key', {}));
    const s = appliance.startSession({ externalKey: '303' });
    zendesk.tickets.delete('303');
    appliance.endSession(s.lsid);
    await until(async () => (await view('zendesk/303')).sessions[0].failures.length > 0, 15_000, 'the failed pull');
    const [item] = (await view('zendesk/303')).sessions;
    expect(item).toMatchObject({ lsid: s.lsid, state: 'ended', writtenBack: { transcriptNote: false } });
    expect(item.failures).toEqual([{ step: 'transcript', reason: expect.stringContaining('404'), retrying: expect.any(Boolean) }]);
  });

  it('lists a key the appliance refused, with its reason', async () => {
    zendesk.createTicket('304');
    const permissions = appliance.accounts.get('rsb-client')!.permissions;
    permissions.perm_command = 'read_only';
    try {
      expect((await api('POST', 'zendesk/304/session-key', {})).status).toBe(422);
    } finally {
      permissions.perm_command = 'full_access';
    }
    expect((await view('zendesk/304')).sessions).toEqual([
      {
        kind: 'session_key',
        state: 'failed',
        createdAt: expect.any(String),
        failures: [{ step: 'session_key', reason: expect.stringContaining('read-only access'), retrying: false }],
      },
    ]);
  });

  it('accepts the ServiceNow number agents see as well as the sys_id', async () => {
    const record = servicenow.createRecord('INC0030001');
    const key = await json(await api('POST', `servicenow/${record.sys_id}/session-key`, { number: 'INC0030001' }));
    const byNumber = await view('servicenow/INC0030001');
    expect(byNumber.ticket).toEqual({ system: 'servicenow', id: record.sys_id, number: 'INC0030001' });
    expect(byNumber.sessions.map((i: { shortKey: string }) => i.shortKey)).toEqual([key.shortKey]);
    expect((await view(`servicenow/${record.sys_id}`)).sessions).toEqual(byNumber.sessions);

    const unknown = await api('GET', 'servicenow/INC0039999/sessions');
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatchObject({ code: 'ticket_not_found', message: expect.stringContaining('INC0039999') });
  });

  it.each([
    ['an unknown system', 'jira/1', {}, 404],
    ['a malformed Zendesk id', 'zendesk/abc', {}, 400],
    ['a malformed ServiceNow number', 'servicenow/12-34', {}, 400],
    ['no token', 'zendesk/1', { authorization: '' }, 401],
  ])('refuses %s', async (_name, path, headers, status) => {
    const res = await api('GET', `${path}/sessions`, undefined, headers);
    expect(res.status).toBe(status);
    expect((await json(res)).error.code).toEqual(expect.any(String));
  });

  it('documents the view and the actions in OpenAPI, with the response schema, behind the bearer token', async () => {
    const doc = (await (await fetch(`${sut.url}/docs-json`)).json()) as {
      paths: Record<
        string,
        Record<string, { security?: unknown; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
      >;
      components: { schemas: Record<string, { properties?: Record<string, { $ref?: string; items?: unknown; enum?: unknown }> }> };
    };
    const get = doc.paths['/api/v1/tickets/{system}/{ticketId}/sessions'].get;
    expect(get.security).toEqual([{ bearer: [] }]);
    expect(get.responses['200'].content!['application/json'].schema).toEqual({ $ref: '#/components/schemas/TicketSessionsDto' });
    expect(doc.components.schemas.TicketSessionsDto.properties!.sessions.items).toEqual({ $ref: '#/components/schemas/TicketSessionDto' });
    expect(doc.components.schemas.TicketSessionDto.properties!.state.enum).toEqual([
      'key_issued',
      'waiting',
      'in_progress',
      'ended',
      'failed',
    ]);
    expect(doc.paths['/api/v1/tickets/{system}/{ticketId}/jump'].post.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/api/v1/tickets/{system}/{ticketId}/cobrowse'].post.security).toEqual([{ bearer: [] }]);
  });

  describe('POST …/jump', () => {
    it('answers the Client Scripting URL at once, notes it once, and lists it on the ticket', async () => {
      const ticket = zendesk.createTicket('311');
      const click = () =>
        api('POST', 'zendesk/311/jump', { target: { hostname: 'casey-pc.corp.example' } }, { 'idempotency-key': 'jump-click-1' });
      const res = await click();
      expect(res.status).toBe(201);
      const body = await json(res);
      expect(body).toEqual({ url: expect.stringContaining(`${appliance.url}/api/client_script?`), externalKey: '311' });
      expect(decodeURIComponent(body.url)).toContain('casey-pc.corp.example');
      expect(await json(await click())).toEqual(body);
      expect(ticket.comments).toHaveLength(1);
      expect(ticket.comments[0]).toMatchObject({ public: false, body: expect.stringContaining(body.url) });
      expect((await view('zendesk/311')).sessions).toEqual([
        expect.objectContaining({ kind: 'jump', state: 'key_issued', externalKey: '311' }),
      ]);
    });

    it('refuses a request without a target, writing nothing', async () => {
      const ticket = zendesk.createTicket('312');
      const res = await api('POST', 'zendesk/312/jump', {});
      expect(res.status).toBe(400);
      expect((await json(res)).error.message).toContain('target.hostname');
      expect(ticket.comments).toHaveLength(0);
    });
  });

  describe('POST …/cobrowse', () => {
    it("answers a watch URL for the ticket's requester and the agent, noted internally", async () => {
      const visitor = upscope.addVisitor({ name: 'Casey', email: 'casey.cb@example.com' });
      const ticket = zendesk.createTicket('321');
      const res = await api('POST', 'zendesk/321/cobrowse', {
        requester: { email: 'casey.cb@example.com' },
        agent: { id: '42', name: 'Ada Agent' },
      });
      expect(res.status).toBe(201);
      const body = await json(res);
      expect(body).toEqual({
        watchUrl: expect.stringContaining(`${upscope.url}/screen?id=${visitor.short_id}`),
        visitor: visitor.short_id,
      });
      expect(ticket.comments).toEqual([expect.objectContaining({ public: false, body: expect.stringContaining(body.watchUrl) })]);
      expect(upscope.watchRequests.find((r) => r.visitorId === visitor.short_id)?.body).toMatchObject({
        agent: { id: '42', name: 'Ada Agent' },
      });
    });

    it('answers 404 visitor_not_found when the requester is not on the site', async () => {
      zendesk.createTicket('322');
      const res = await api('POST', 'zendesk/322/cobrowse', { requester: { email: 'nobody@example.com' }, agent: { id: '1', name: 'A' } });
      expect(res.status).toBe(404);
      expect((await json(res)).error).toMatchObject({ code: 'visitor_not_found', message: expect.stringContaining('lookup code') });
    });
  });
});

describe('The ticket sessions view with the Real-Time State API', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let sut: RunningApp;
  let bridge: FakeBridge;

  beforeAll(async () => {
    bridge = await startFakeBridge({
      BT_REALTIME_ENABLED: 'true',
      RSB_CALLBACK_SECRET: `whsec_${Buffer.from('callback-secret-0123456789abcdef').toString('base64')}`,
    });
    ({ appliance, zendesk, sut } = bridge);
  });
  afterAll(() => bridge?.stop());

  it('shows when the appliance expects a waiting session to be picked up', async () => {
    zendesk.createTicket('331');
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_TOKEN}` };
    await fetch(`${sut.url}/api/v1/tickets/zendesk/331/session-key`, { method: 'POST', headers, body: '{}' });
    const s = appliance.startSession({ externalKey: '331' });
    const item = await until(
      async () => {
        const view = await json(await fetch(`${sut.url}/api/v1/tickets/zendesk/331/sessions`, { headers }));
        return view.sessions[0]?.estimatedPickupAt ? view.sessions[0] : undefined;
      },
      10_000,
      'the estimated pickup time',
    );
    expect(item).toMatchObject({ state: 'waiting', lsid: s.lsid, estimatedPickupAt: new Date((s.startTime + 120) * 1000).toISOString() });
  });
});
