import { Queue } from 'bullmq';
import { QUEUES } from '../../../src/jobs/queues';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeServiceNow } from '../../fakes/servicenow/fake-servicenow';
import { FakeUpscope } from '../../fakes/upscope/fake-upscope';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp, TEST_API_TOKEN } from '../../support/app';
import { FakeBridge, startFakeBridge } from '../../support/fake-bridge';
import { until } from '../../support/child';
import { json } from '../../support/http';
import { REDIS_URL } from '../../support/redis';

describe('Co-browse with Upscope and Jump links from tickets', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let servicenow: FakeServiceNow;
  let upscope: FakeUpscope;
  let sut: RunningApp;
  let queue: Queue;
  let bridge: FakeBridge;

  beforeAll(async () => {
    bridge = await startFakeBridge({ UPSCOPE_PERMISSIONS: 'allow_console=false,allow_type=true' }, { servicenow: true, upscope: true });
    ({ appliance, zendesk, servicenow, upscope, sut } = bridge);
    queue = new Queue(QUEUES.ticketEvents, { connection: { url: REDIS_URL }, prefix: sut.prefix });
  });
  afterAll(async () => {
    await queue.close();
    await bridge.stop();
  });

  const zendeskRequest = (id: string, action: string, extra: Record<string, unknown> = {}) =>
    zendesk.sendWebhook(`${sut.url}/webhooks/zendesk`, {
      action,
      ticket: { id, subject: 'Cannot find the invoice page', requester: { name: 'Casey Customer', email: 'casey@example.com' } },
      assignee: { id: '42', name: 'Ada Agent' },
      ...extra,
    });

  it('Zendesk: finds the requester among Upscope visitors and notes a watch URL for the assignee, internally', async () => {
    const visitor = upscope.addVisitor({ name: 'Casey Customer', email: 'casey@example.com' });
    const ticket = zendesk.createTicket('801');
    const res = await zendeskRequest('801', 'cobrowse.requested');
    expect(res.status).toBe(202);
    await until(async () => ticket.comments.length >= 1, 10_000, 'the co-browse note');
    expect(ticket.comments).toHaveLength(1);
    expect(ticket.comments[0].public).toBe(false);
    expect(ticket.comments[0].body).toContain(`${upscope.url}/screen?id=${visitor.short_id}&token=`);
    expect(ticket.comments[0].body).toContain('Casey Customer, casey@example.com');
    const request = upscope.watchRequests.find((r) => r.visitorId === visitor.short_id)!;
    expect(request.body).toMatchObject({
      licenseToken: upscope.licenseToken,
      agent: { id: '42', name: 'Ada Agent' },
      permissions: { allow_console: false, allow_type: true },
      metadata: { ticket: 'zendesk:801' },
    });
  });

  it('ServiceNow: finds the visitor by the lookup code given in the request', async () => {
    upscope.addVisitor({ email: 'someone.else@example.com' });
    const visitor = upscope.addVisitor({ name: 'Dana', lookup_code: '4711' });
    const record = servicenow.createRecord('INC0020001');
    const res = await servicenow.sendBusinessRule(`${sut.url}/webhooks/servicenow`, record, {
      action: 'cobrowse.requested',
      target: { lookupCode: '4711' },
      assigned_to: { id: 'abc', name: 'Sam Agent' },
    });
    expect(res.status).toBe(202);
    await until(async () => record.work_notes.length >= 1, 10_000, 'the co-browse work note');
    expect(record.comments).toEqual([]);
    expect(record.work_notes[0]).toContain(`screen?id=${visitor.short_id}`);
    expect(upscope.watchRequests.at(-1)!.body).toMatchObject({ agent: { id: 'abc', name: 'Sam Agent' } });
  });

  it('writes a clear note when no visitor matches, and when Upscope refuses', async () => {
    const lonely = zendesk.createTicket('802');
    await zendeskRequest('802', 'cobrowse.requested', { ticket: { id: '802', requester: { email: 'nobody@example.com' } } });
    await until(async () => lonely.comments.length >= 1, 10_000, 'the no-visitor note');
    expect(lonely.comments[0].body).toContain('no online Upscope visitor matches email nobody@example.com');
    expect(lonely.comments[0].body).toContain('lookup code');

    upscope.addVisitor({ email: 'busy@example.com' });
    const busy = zendesk.createTicket('803');
    // The search answers; the watch URL is refused with a status the document gives no meaning to.
    upscope.failNext(1, 402, /watch_url$/);
    await zendeskRequest('803', 'cobrowse.requested', { ticket: { id: '803', requester: { email: 'busy@example.com' } } });
    await until(async () => busy.comments.length >= 1, 10_000, 'the refusal note');
    expect(busy.comments[0].body).toContain('Co-browse could not start: Upscope refused the request (HTTP 402');
    expect(busy.comments[0].public).toBe(false);
  });

  it('POST /api/v1/cobrowse/watch-urls answers a watch URL for a match and 404 without one', async () => {
    const visitor = upscope.addVisitor({ email: 'api@example.com', tags: ['vip'] });
    const call = (body: unknown) =>
      fetch(`${sut.url}/api/v1/cobrowse/watch-urls`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ok = await call({ visitor: { email: 'api@example.com' }, agent: { id: '7', name: 'Bot' } });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({
      watchUrl: expect.stringContaining(`id=${visitor.short_id}`),
      visitor: { shortId: visitor.short_id },
    });
    const missing = await call({ visitor: { query: 'id:does-not-exist' }, agent: { id: '7', name: 'Bot' } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: 'visitor_not_found', message: 'No Upscope visitor matches "id:does-not-exist"' },
    });
    const bad = await call({ visitor: {}, agent: { name: 'Bot' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('agent.id is required');
  });

  it('a Jump request gets a client-script URL whose session, once ended, is written back to the same ticket', async () => {
    const ticket = zendesk.createTicket('804');
    const res = await json(await zendeskRequest('804', 'jump.requested', { target: { jumpClient: 'CASEY-PC' } }));
    await until(async () => ticket.comments.length >= 1, 10_000, 'the Jump note');
    const url = new URL(/https?:\/\/\S+client_script\S+/.exec(ticket.comments[0].body)![0]);
    expect(url.origin + url.pathname).toBe(`${appliance.url}/api/client_script`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      type: 'rep',
      operation: 'generate',
      action: 'start_jump_item_session',
      search_string: 'CASEY-PC',
      'session.custom.external_key': '804',
    });
    expect(ticket.comments[0].public).toBe(false);
    expect((await queue.getJob(res.jobId))!.returnvalue).toMatchObject({ externalKey: '804' });

    // The representative runs the script; the Jump session happens and ends in the appliance.
    const session = appliance.startSession({ externalKey: url.searchParams.get('session.custom.external_key')! });
    appliance.chat(session.lsid, { repId: '2' }, 'Jumped in, fixing the driver');
    appliance.endSession(session.lsid);
    await until(async () => ticket.comments.length >= 2, 15_000, 'the Jump session transcript');
    expect(ticket.comments[1].body).toContain('Jumped in, fixing the driver');
  });

  it('refuses a Jump request without a target (400, nothing enqueued)', async () => {
    const before = await queue.count();
    const res = await zendeskRequest('805', 'jump.requested');
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('jump.requested needs target.hostname');
    expect(await queue.count()).toBe(before);
  });
});
