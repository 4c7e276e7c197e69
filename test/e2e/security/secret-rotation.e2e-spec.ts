import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { standardWebhookHeaders, verifyStandardWebhook } from '../../../src/common/standard-webhooks';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { FakeBot } from '../../fakes/bot/fake-bot';
import { BusinessRuleAuth, FakeServiceNow } from '../../fakes/servicenow/fake-servicenow';
import { RunningApp, startApp, TEST_API_TOKEN } from '../../support/app';
import { until } from '../../support/child';
import { applianceEnv, servicenowEnv } from '../../support/fake-env';
import { json } from '../../support/http';

const OLD = {
  servicenow: 'sn-old-secret-0123456789',
  generic: `whsec_${Buffer.from('generic-old-secret-0123456789').toString('base64')}`,
  events: 'events-old-token-0123456789',
  callback: `whsec_${Buffer.from('callback-old-secret-0123456789').toString('base64')}`,
};
const NEW = {
  generic: `whsec_${Buffer.from('generic-new-secret-0123456789').toString('base64')}`,
  events: 'events-new-token-0123456789',
  callback: `whsec_${Buffer.from('callback-new-secret-0123456789').toString('base64')}`,
};
const CUSTOMER = { name: 'Casey', ipAddress: '203.0.113.7', operatingSystem: 'Windows 11', computerName: 'CASEY-PC' };

/** A generic system's callback endpoint that keeps the raw requests, to verify them with either secret. */
class RawReceiver {
  readonly received: { headers: IncomingHttpHeaders; raw: Buffer }[] = [];
  url = '';
  private server?: Server;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/callback`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('Every secret rotates without a cut-over (*_PREVIOUS)', () => {
  let appliance: FakeAppliance;
  let servicenow: FakeServiceNow;
  let receiver: RawReceiver;
  let bot: FakeBot;
  let sut: RunningApp;

  beforeAll(async () => {
    [appliance, servicenow, receiver, bot] = await Promise.all([
      new FakeAppliance().start(),
      new FakeServiceNow().start(),
      new RawReceiver().start(),
      // A bot that has not been given the new secret yet.
      new FakeBot(OLD.callback).start(),
    ]);
    sut = await startApp({
      ...applianceEnv(appliance),
      ...servicenowEnv(servicenow),
      SERVICENOW_WEBHOOK_SECRET_PREVIOUS: OLD.servicenow,
      GENERIC_WEBHOOK_SECRET: NEW.generic,
      GENERIC_WEBHOOK_SECRET_PREVIOUS: OLD.generic,
      BT_EVENTS_TOKEN: NEW.events,
      BT_EVENTS_TOKEN_PREVIOUS: OLD.events,
      RSB_CALLBACK_SECRET: NEW.callback,
      RSB_CALLBACK_SECRET_PREVIOUS: OLD.callback,
      RSB_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      RSB_CHAT_POLL_MS: '250',
      BT_POLL_INTERVAL_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await appliance.stop();
    await sut.close();
    await Promise.all([servicenow.stop(), receiver.stop(), bot.stop()]);
  });

  it('accepts a ServiceNow Business Rule still on the previous secret, in each of its forms, and no third secret', async () => {
    const hook = `${sut.url}/webhooks/servicenow`;
    const basic = (secret: string) => `Basic ${Buffer.from(`servicenow:${secret}`).toString('base64')}`;
    const now = Math.floor(Date.now() / 1000);
    const incident = servicenow.createRecord('INC0080001');
    const previous: BusinessRuleAuth[] = [
      { signedAt: now, secret: OLD.servicenow },
      { header: { 'x-rsb-webhook-secret': OLD.servicenow } },
      { header: { authorization: basic(OLD.servicenow) } },
      'signed',
    ];
    for (const auth of previous) expect((await servicenow.sendBusinessRule(hook, incident, {}, auth)).status).toBe(202);
    const third: BusinessRuleAuth[] = [
      { signedAt: now, secret: 'sn-third-secret-0123456789' },
      { header: { 'x-rsb-webhook-secret': 'sn-third-secret-0123456789' } },
    ];
    for (const auth of third) expect((await servicenow.sendBusinessRule(hook, incident, {}, auth)).status).toBe(401);
  });

  it('accepts outbound events carrying the previous token, and no third one', async () => {
    const post = (token: string) =>
      fetch(`${sut.url}/webhooks/beyondtrust`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-rsb-events-token': token },
        body: 'event=support_conference_frobnicated&lsid=abc',
      });
    expect((await post(OLD.events)).status).toBe(200);
    expect((await post(NEW.events)).status).toBe(200);
    expect((await post('events-third-token-0123456789')).status).toBe(401);
  });

  it('accepts a generic webhook signed with the previous secret and signs its callbacks for holders of either', async () => {
    const body = JSON.stringify({ action: 'session.requested', ticket: { id: 'T-ROT' }, callbackUrl: receiver.url });
    const res = await fetch(`${sut.url}/webhooks/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...standardWebhookHeaders(OLD.generic, 'rotation-1', body) },
      body,
    });
    expect(res.status).toBe(202);
    await until(async () => receiver.received.length >= 2, 15_000, 'the callbacks');
    for (const { headers, raw } of receiver.received) {
      expect(String(headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verifyStandardWebhook(NEW.generic, headers, raw, 60).ok).toBe(true);
      expect(verifyStandardWebhook(OLD.generic, headers, raw, 60).ok).toBe(true);
      expect(verifyStandardWebhook(`whsec_${Buffer.from('generic-third-secret-0123456789').toString('base64')}`, headers, raw, 60).ok).toBe(
        false,
      );
    }
  });

  it('signs callbacks to a bot with both secrets, so a bot still holding the previous one accepts them', async () => {
    const created = await fetch(`${sut.url}/api/v1/chat/escalations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customer: CUSTOMER, callbackUrl: bot.url, queue: 'team:1' }),
    });
    expect(created.status).toBe(201);
    const escalation = await json(created);
    appliance.joinRep(escalation.lsid, '2');
    await until(async () => bot.of(escalation.id).length >= 1, 15_000, 'the accepted callback');
    expect(bot.of(escalation.id)[0].type).toBe('escalation.accepted');
    expect(bot.badSignatures).toBe(0);
  });
});
