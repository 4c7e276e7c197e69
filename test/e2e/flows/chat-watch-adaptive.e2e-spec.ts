import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeBot } from '../../fakes/bot/fake-bot';
import { RunningApp, TEST_API_TOKEN } from '../../support/app';
import { ChatBridge, startChatBridge } from '../../support/fake-bridge';
import { until } from '../../support/child';

const CALLBACK_SECRET = 'whsec_' + Buffer.from('chat-callback-secret-0123456789').toString('base64');
const CUSTOMER = { name: 'Casey Customer', ipAddress: '203.0.113.7', operatingSystem: 'Windows 11', computerName: 'CASEY-PC' };

/** The watcher reads fast after activity and backs off while an escalation is quiet. */
describe('Chat watcher: adaptive reads', () => {
  let appliance: FakeAppliance;
  let bot: FakeBot;
  let sut: RunningApp;
  let bridge: ChatBridge;

  beforeAll(async () => {
    bridge = await startChatBridge(CALLBACK_SECRET, {
      RSB_CHAT_POLL_MS: '250',
      RSB_CHAT_POLL_MAX_MS: '2000',
      BT_REALTIME_ENABLED: 'false',
    });
    ({ appliance, bot, sut } = bridge);
  });
  afterAll(() => bridge.stop());

  const readsOf = (lsid: string, from: number) =>
    appliance.requests
      .slice(from)
      .filter((r) => r.params.generate_report === 'SupportSession' && (r.params.lsids ?? r.params.lsid ?? '').split(',').includes(lsid))
      .length;
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('backs off while quiet, answers a reply within the longest wait, and is fast again after a line is sent', async () => {
    const res = await fetch(`${sut.url}/api/v1/chat/escalations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customer: CUSTOMER, callbackUrl: bot.url, queue: 'team:1' }),
    });
    expect(res.status).toBe(201);
    const escalation = (await res.json()) as { id: string; lsid: string };
    await pause(1_000);

    // Quiet for 6 s: a flat 250 ms would read 24 times; doubling up to 2 s reads a handful.
    let from = appliance.requests.length;
    await pause(6_000);
    const quiet = readsOf(escalation.lsid, from);
    expect(quiet).toBeGreaterThanOrEqual(2);
    expect(quiet).toBeLessThanOrEqual(8);

    // A representative picks it up: the bot hears within the longest wait (and a tick).
    appliance.joinRep(escalation.lsid, '2');
    const replied = Date.now();
    await until(async () => bot.of(escalation.id).length >= 1, 5_000, 'the accepted callback');
    expect(Date.now() - replied).toBeLessThan(3_000);

    // The customer sends a line through the bot: reads are fast again right away.
    await pause(4_000);
    expect(
      (
        await fetch(`${sut.url}/api/v1/chat/escalations/${escalation.id}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'Are you there?' }),
        })
      ).status,
    ).toBe(202);
    from = appliance.requests.length;
    await pause(1_000);
    expect(readsOf(escalation.lsid, from)).toBeGreaterThanOrEqual(2);
  });
});
