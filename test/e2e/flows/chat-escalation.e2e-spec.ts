import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeBot } from '../../fakes/bot/fake-bot';
import { FakeZendesk } from '../../fakes/zendesk/fake-zendesk';
import { RunningApp, startApp, TEST_API_TOKEN } from '../../support/app';
import { ChatBridge, startChatBridge } from '../../support/fake-bridge';
import { until } from '../../support/child';
import { applianceEnv, zendeskEnv } from '../../support/fake-env';

const CALLBACK_SECRET = 'whsec_' + Buffer.from('chat-callback-secret-0123456789').toString('base64');
const EVENTS_TOKEN = 'bt-events-token-0123456789';
const CUSTOMER = { name: 'Casey Customer', ipAddress: '203.0.113.7', operatingSystem: 'Windows 11', computerName: 'CASEY-PC' };

interface EscalationView {
  id: string;
  lsid: string;
  state: string;
  representatives: string[];
  downloadUrl: string;
}

describe('Chat bot escalation relay', () => {
  let appliance: FakeAppliance;
  let zendesk: FakeZendesk;
  let bot: FakeBot;
  let sut: RunningApp;
  let env: Record<string, string>;

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${sut.url}/api/v1/chat/escalations${path}`, {
      method,
      headers: { authorization: `Bearer ${TEST_API_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const escalate = async (extra: Record<string, unknown> = {}) => {
    const res = await call('POST', '', { customer: CUSTOMER, callbackUrl: bot.url, queue: 'team:1', ...extra });
    return { status: res.status, body: (await res.json()) as EscalationView & { error?: { code: string; message: string } } };
  };

  beforeAll(async () => {
    appliance = await new FakeAppliance().start();
    zendesk = await new FakeZendesk().start();
    bot = await new FakeBot(CALLBACK_SECRET).start();
    env = {
      ...applianceEnv(appliance),
      ...zendeskEnv(zendesk),
      RSB_CALLBACK_SECRET: CALLBACK_SECRET,
      // The fake bot listens on loopback, which callbacks reach only when listed on purpose.
      RSB_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      RSB_CHAT_POLL_MS: '250',
      BT_EVENTS_TOKEN: EVENTS_TOKEN,
      BT_POLL_INTERVAL_SECONDS: '0',
    };
    sut = await startApp(env);
    appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN);
  });
  afterAll(async () => {
    // The appliance first: it would keep retrying outbound events at a server that is closing.
    await appliance.stop();
    await sut.close();
    await Promise.all([zendesk.stop(), bot.stop()]);
  });

  it('relays both ways in order, signed, once each across a worker restart, and leaves cleanly', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 120;
    const { status, body: escalation } = await escalate({
      transcript: [
        { from: 'customer', text: 'My printer is on fire', at: new Date(t0 * 1000).toISOString() },
        { from: 'bot', text: 'Have you tried turning it off?', at: t0 + 10 },
      ],
    });
    expect(status).toBe(201);
    expect(escalation).toMatchObject({ state: 'queued', representatives: [], downloadUrl: expect.stringContaining('c2c=1') });
    const session = appliance.sessions.get(escalation.lsid)!;
    expect(session.virtual).toBe(true);
    const replayed = session.events.filter((e) => e.type === 'Chat Message');
    expect(replayed.map((e) => [e.timestamp, e.performedBy?.type, e.body])).toEqual([
      [t0, 'customer', 'My printer is on fire'],
      [t0 + 10, 'system', 'Bot: Have you tried turning it off?'],
    ]);

    // The customer keeps talking through the bot: lines impersonate the customer; BBCode shows as typed.
    expect((await call('POST', `/${escalation.id}/messages`, { text: 'It is [b]still[/b] smoking' })).status).toBe(202);
    expect((await call('POST', `/${escalation.id}/messages`, { text: '[b]Bold on purpose[/b]', formatted: true })).status).toBe(202);
    const lines = session.events.filter((e) => e.type === 'Chat Message').slice(2);
    expect(lines.map((e) => [e.performedBy?.type, e.body])).toEqual([
      ['customer', 'It is [\u200Bb]still[\u200B/b] smoking'],
      ['customer', '[b]Bold on purpose[/b]'],
    ]);

    // A representative accepts and replies; the bot hears it, in order, and none of its own lines.
    appliance.joinRep(escalation.lsid, '2');
    appliance.chat(escalation.lsid, { repId: '2' }, 'Hi Casey, Bob here');
    appliance.chat(escalation.lsid, { repId: '2' }, 'Unplug it please');
    await until(async () => bot.of(escalation.id).length >= 3, 10_000, 'accepted + two replies');
    expect(bot.of(escalation.id).map((d) => [d.type, d.body.text ?? d.body.representative])).toEqual([
      ['escalation.accepted', 'Bob Tech'],
      ['escalation.message', 'Hi Casey, Bob here'],
      ['escalation.message', 'Unplug it please'],
    ]);
    expect((await (await call('GET', `/${escalation.id}`)).json()) as EscalationView).toMatchObject({
      state: 'active',
      representatives: ['Bob Tech'],
    });

    // The worker goes away; the rep keeps typing; the bot is briefly down when it comes back.
    await sut.app.close();
    appliance.chat(escalation.lsid, { repId: '2' }, 'Are you still there?');
    appliance.transferSession(escalation.lsid, '1');
    appliance.chat(escalation.lsid, { repId: '1' }, 'Ada here, taking over');
    bot.failNext(2);
    sut = await startApp({ ...env, RSB_REDIS_PREFIX: sut.prefix });
    appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN);
    await until(async () => bot.of(escalation.id).length >= 6, 15_000, 'the lines from the restart');
    expect(
      bot
        .of(escalation.id)
        .slice(3)
        .map((d) => [d.type, d.body.text ?? `${d.body.from} → ${d.body.to}`]),
    ).toEqual([
      ['escalation.message', 'Are you still there?'],
      ['escalation.transferred', 'Bob Tech → Ada Admin'],
      ['escalation.message', 'Ada here, taking over'],
    ]);

    const left = await call('DELETE', `/${escalation.id}`);
    expect(left.status).toBe(200);
    await until(async () => bot.of(escalation.id).some((d) => d.type === 'escalation.ended'), 10_000, 'escalation.ended');
    expect((await call('DELETE', `/${escalation.id}`)).status).toBe(200);
    expect((await (await call('GET', `/${escalation.id}`)).json()) as EscalationView).toMatchObject({ state: 'ended' });
    expect(appliance.sessions.get(escalation.lsid)!.customer.inSession).toBe(false);

    // Each callback was signed (the bot checks) and, by id, delivered exactly once in order.
    expect(bot.badSignatures).toBe(0);
    const ids = bot.of(escalation.id).map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(bot.of(escalation.id).map((d) => d.type)).toEqual([
      'escalation.accepted',
      'escalation.message',
      'escalation.message',
      'escalation.message',
      'escalation.transferred',
      'escalation.message',
      'escalation.ended',
    ]);
  });

  it('never hands the bot a line it sent, whatever sender the report gives it', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 120;
    const { body: escalation } = await escalate({
      transcript: [
        { from: 'customer', text: 'Printer smokes', at: new Date(t0 * 1000).toISOString() },
        { from: 'bot', text: 'Have you tried turning it off?', at: new Date((t0 + 10) * 1000).toISOString() },
      ],
    });
    expect((await call('POST', `/${escalation.id}/messages`, { text: 'Yes, twice' })).status).toBe(202);
    appliance.joinRep(escalation.lsid, '2');
    // An appliance that reports the lines an API account sent as said by the representative in the session.
    const session = appliance.sessions.get(escalation.lsid)!;
    const bob = { gsnumber: '12', type: 'representative' as const, name: 'Bob Tech' };
    for (const e of session.events) if (e.type === 'Chat Message') e.performedBy = bob;
    // The representative then says, in their own words, what the bot said: that line is theirs and goes through.
    appliance.chat(escalation.lsid, { repId: '2' }, 'Have you tried turning it off?');
    appliance.chat(escalation.lsid, { repId: '2' }, 'Bob here');
    // Callbacks go out in the order of the report: once the last line is in, every earlier one was decided.
    await until(async () => bot.of(escalation.id).some((d) => d.body.text === 'Bob here'), 10_000, 'the last reply');
    expect(
      bot
        .of(escalation.id)
        .filter((d) => d.type === 'escalation.message')
        .map((d) => [d.body.from, d.body.text]),
    ).toEqual([
      ['representative', 'Have you tried turning it off?'],
      ['representative', 'Bob here'],
    ]);
    await call('DELETE', `/${escalation.id}`);
  });

  it("takes a bot's 4xx as a refusal: posted once, not retried at once", async () => {
    const { body: escalation } = await escalate();
    // Counted for this escalation only: a late callback of an earlier test's escalation may be refused too.
    const refusedHere = () => bot.refusedEscalations.filter((id) => id === escalation.id).length;
    bot.refuseNext(1000);
    try {
      appliance.joinRep(escalation.lsid, '2');
      await until(async () => refusedHere() > 0, 10_000, 'the refused callback');
      // Ticks run every 250 ms and the old policy retried within 0.5, 1 and 2 s: a few seconds tell them apart.
      await new Promise((r) => setTimeout(r, 3_500));
      expect(refusedHere()).toBe(1);
      expect(bot.of(escalation.id)).toEqual([]);
    } finally {
      bot.refuseNext(0);
    }
    await call('DELETE', `/${escalation.id}`);
  });

  // The guide: leave_session "removes a customer or representative from a session"; whether the session
  // of a virtual customer then ends is not said. Either way the bot hears escalation.ended, once.
  it.each([
    ['goes on with the representative in it', false],
    ['ends', true],
  ] as const)('ends the escalation for the bot when the customer leaves and the session %s', async (_reading, ends) => {
    appliance.virtualCustomerLeaveEndsSession = ends;
    try {
      const { body: escalation } = await escalate();
      appliance.joinRep(escalation.lsid, '2');
      appliance.chat(escalation.lsid, { repId: '2' }, 'Anything else?');
      await until(async () => bot.of(escalation.id).some((d) => d.type === 'escalation.message'), 10_000, 'the reply');
      expect((await call('DELETE', `/${escalation.id}`)).status).toBe(200);
      await until(async () => bot.of(escalation.id).some((d) => d.type === 'escalation.ended'), 10_000, 'escalation.ended');
      expect(appliance.sessions.get(escalation.lsid)!.endTime !== undefined).toBe(ends);
      const again = await call('POST', `/${escalation.id}/messages`, { text: 'hello?' });
      expect(again.status).toBe(409);
      expect((await call('DELETE', `/${escalation.id}`)).status).toBe(200);
      expect(bot.of(escalation.id).filter((d) => d.type === 'escalation.ended')).toHaveLength(1);
    } finally {
      appliance.virtualCustomerLeaveEndsSession = false;
    }
  });

  it('writes the conversation to its ticket when the session ends', async () => {
    zendesk.createTicket('1201');
    const { status, body: escalation } = await escalate({ ticket: { system: 'zendesk', id: '1201' } });
    expect(status).toBe(201);
    appliance.joinRep(escalation.lsid, '2');
    appliance.chat(escalation.lsid, { repId: '2' }, 'Fixed it remotely');
    await call('DELETE', `/${escalation.id}`);
    // The customer has left; the representative closes the session.
    appliance.endSession(escalation.lsid);
    const ticket = zendesk.tickets.get('1201')!;
    await until(async () => ticket.comments.length >= 1, 15_000, 'the transcript note');
    expect(ticket.comments[0].body).toContain('Fixed it remotely');
  });

  it('answers bad input with a clear 4xx and the appliance refusal with 422', async () => {
    expect((await call('GET', '/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await call('POST', '/nope/messages', { text: 'hi' })).status).toBe(404);
    const { body: escalation } = await escalate();
    const empty = await call('POST', `/${escalation.id}/messages`, { text: '' });
    expect(empty.status).toBe(400);
    expect(JSON.stringify(await empty.json())).toContain('text must not be empty');
    const long = await call('POST', `/${escalation.id}/messages`, { text: 'x'.repeat(4001) });
    expect(long.status).toBe(400);
    expect(JSON.stringify(await long.json())).toContain('text must be at most 4000 characters');
    const badUrl = await call('POST', '', { customer: CUSTOMER, callbackUrl: 'ftp://bot' });
    expect(badUrl.status).toBe(400);
    expect(JSON.stringify(await badUrl.json())).toContain('callbackUrl must be an http(s) URL');
    const noCustomer = await call('POST', '', { customer: { name: 'Casey' }, callbackUrl: bot.url });
    expect(noCustomer.status).toBe(400);
    expect(JSON.stringify(await noCustomer.json())).toEqual(expect.stringContaining('customer.ipAddress must be an IP address'));
    const refused = await escalate({ queue: 'team:999' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toEqual({ code: 'appliance_refused', message: expect.stringContaining('The appliance refused') });
    await call('DELETE', `/${escalation.id}`);
  });
});

describe('Chat escalations with the Real-Time State API', () => {
  let appliance: FakeAppliance;
  let bot: FakeBot;
  let sut: RunningApp;
  let bridge: ChatBridge;

  beforeAll(async () => {
    // Polling once a minute: anything faster in this test came from the real-time model.
    bridge = await startChatBridge(CALLBACK_SECRET, { RSB_CHAT_POLL_MS: '60000', BT_REALTIME_ENABLED: 'true' });
    ({ appliance, bot, sut } = bridge);
  });
  afterAll(() => bridge.stop());

  it('reports the estimated pickup time while queued and learns of acceptance and the end at once', async () => {
    const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };
    const res = await fetch(`${sut.url}/api/v1/chat/escalations`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ customer: CUSTOMER, callbackUrl: bot.url, queue: 'team:1' }),
    });
    const escalation = (await res.json()) as EscalationView;
    const session = appliance.sessions.get(escalation.lsid)!;
    const view = await until(
      async () => {
        const body = (await (await fetch(`${sut.url}/api/v1/chat/escalations/${escalation.id}`, { headers: auth })).json()) as {
          estimatedPickupAt?: string;
        };
        return body.estimatedPickupAt ? body : undefined;
      },
      10_000,
      'the estimated pickup time',
    );
    expect(view.estimatedPickupAt).toBe(new Date((session.startTime + 120) * 1000).toISOString());

    appliance.joinRep(escalation.lsid, '2');
    await until(async () => bot.of(escalation.id).some((d) => d.type === 'escalation.accepted'), 10_000, 'escalation.accepted');
    appliance.endSession(escalation.lsid);
    await until(async () => bot.of(escalation.id).some((d) => d.type === 'escalation.ended'), 10_000, 'escalation.ended');
  });
});
