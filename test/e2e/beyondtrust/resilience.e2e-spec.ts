import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { BeyondTrustAuthError, BeyondTrustResponseError, BeyondTrustUnavailableError } from '../../../src/beyondtrust/beyondtrust.errors';
import { FakeAppliance } from '../../fakes/beyondtrust/fake-appliance';
import { within } from '../../support/child';
import { ClientHarness, CLIENT_ID } from './support';

describe('BeyondTrust client resilience', () => {
  let fake: FakeAppliance;
  let harness: ClientHarness;

  beforeEach(async () => {
    fake = await new FakeAppliance().start();
    harness = new ClientHarness(fake);
  });
  afterEach(async () => {
    await harness.close();
    await fake.stop();
  });

  const apiRequests = () => fake.requests.filter((r) => r.path.startsWith('/api/'));

  it('shares one token between every process of a deployment, even when they start at once', async () => {
    const pods = Array.from({ length: 5 }, () => harness.client());
    await Promise.all(pods.flatMap((pod) => [pod.command.getApiInfo(), pod.command.checkHealth()]));
    expect(fake.tokenRequests).toBe(1);
    expect(fake.validTokenCount(CLIENT_ID)).toBe(1);
  });

  it('renews the token when it expires mid-run, one request per lifetime', async () => {
    await fake.stop();
    fake = await new FakeAppliance({ tokenTtlSeconds: 1 }).start();
    harness = new ClientHarness(fake);
    const sut = harness.client();
    const until = Date.now() + 2_600;
    let calls = 0;
    while (Date.now() < until) {
      await sut.command.checkHealth();
      calls += 1;
    }
    expect(calls).toBeGreaterThan(10);
    // Three lifetimes (plus at most one refresh ahead of expiry each), never one per call.
    expect(fake.tokenRequests).toBeLessThanOrEqual(6);
    // Every call succeeded; a token dying in flight costs at most one 401 and a retry per lifetime.
    expect(apiRequests().filter((r) => r.status === 401).length).toBeLessThanOrEqual(3);
  });

  it('fetches a new token once and retries when the appliance answers 401', async () => {
    const sut = harness.client();
    await sut.command.checkHealth();
    // The secret is regenerated and set back: every token dies, the credentials still work.
    const account = fake.accounts.get(CLIENT_ID)!;
    const secret = account.clientSecret;
    fake.regenerateSecret(CLIENT_ID);
    account.clientSecret = secret;
    await expect(sut.command.checkHealth()).resolves.toMatchObject({ success: true });
    expect(fake.tokenRequests).toBe(2);
    expect(apiRequests().map((r) => r.status)).toEqual([200, 401, 200]);
  });

  it('stops with a clear error, and no loop, when the client secret was revoked', async () => {
    const sut = harness.client();
    await sut.command.checkHealth();
    fake.regenerateSecret(CLIENT_ID);
    const call = sut.command.checkHealth();
    await expect(call).rejects.toThrow(BeyondTrustAuthError);
    await expect(sut.command.checkHealth()).rejects.toThrow(/check BT_CLIENT_ID and BT_CLIENT_SECRET/);
    expect(fake.tokenRequests).toBeLessThanOrEqual(3);
  });

  it('rides out a 429 storm by honouring Retry-After, shared by every process', async () => {
    const [a, b] = [harness.client({ maxAttempts: 4 }), harness.client({ maxAttempts: 4 })];
    fake.failNext(2, 429, { retryAfter: '1' });
    const started = Date.now();
    await Promise.all([a.command.checkHealth(), b.command.checkHealth()]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(apiRequests().filter((r) => r.status === 429)).toHaveLength(2);
    expect(apiRequests().filter((r) => r.status === 200)).toHaveLength(2);
  });

  it('gives up on a persistent 429 with a retryable error carrying the wait', async () => {
    fake.failNext(10, 429, { retryAfter: '0' });
    const error = await harness
      .client({ maxAttempts: 2 })
      .command.checkHealth()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BeyondTrustUnavailableError);
    expect(error).toMatchObject({ retryable: true, status: 429 });
  });

  it('retries reads through 5xx answers, but never repeats a chat line', async () => {
    const sut = harness.client();
    fake.failNext(2, 503);
    await expect(sut.command.getLoggedInReps()).resolves.toHaveLength(2);

    const session = fake.startSession();
    fake.failNext(1, 502);
    const error = await sut.command.sendChatMessage({ lsid: session.lsid, body: 'once' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: true, status: 502 });
    expect(apiRequests().filter((r) => r.params.action === 'send_chat_message')).toHaveLength(1);
  });

  it('times out a hanging appliance with a retryable error', async () => {
    fake.failNext(5, 200, { delayMs: 1_500 });
    const error = await harness
      .client({ timeoutMs: 300, maxAttempts: 2 })
      .command.checkHealth()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BeyondTrustUnavailableError);
    expect((error as Error).message).toMatch(/no answer from the appliance within 300 ms/);
  });

  it('gives up on an answer trickling in a byte every 500 ms once BT_TIMEOUT_MS has passed in total', async () => {
    const sut = harness.client({ timeoutMs: 1_200, maxAttempts: 2 });
    await sut.command.checkHealth();
    fake.trickleNext(2, 500);
    const started = Date.now();
    const error = await within(8_000, sut.command.getLoggedInReps());
    expect(error).toBeInstanceOf(BeyondTrustUnavailableError);
    expect(error).toMatchObject({ retryable: true, message: 'no answer from the appliance within 1200 ms' });
    // Two attempts of 1.2 s each and the backoff between them.
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('gives up on a token answer that trickles', async () => {
    fake.trickleNext(1, 500);
    const error = await within(8_000, harness.client({ timeoutMs: 1_000 }).command.checkHealth());
    expect(error).toBeInstanceOf(BeyondTrustUnavailableError);
    expect((error as Error).message).toMatch(/no token from the appliance within 1000 ms/);
  });

  it('does not repeat a command whose answer timed out: it may have been carried out', async () => {
    const sut = harness.client({ timeoutMs: 800 });
    const session = fake.startSession();
    await sut.command.checkHealth();
    fake.trickleNext(3, 300);
    const error = await within(8_000, sut.command.sendChatMessage({ lsid: session.lsid, body: 'once' }));
    expect(error).toMatchObject({ retryable: true, message: 'no answer from the appliance within 800 ms' });
    expect(apiRequests().filter((r) => r.params.action === 'send_chat_message')).toHaveLength(1);
  });

  it('cuts a recording download that stops moving, but not one opened early and read later', async () => {
    const sut = harness.client({ timeoutMs: 800 });
    const session = fake.startSession();
    fake.addRecording(session.lsid, 'session', 300_000);
    const size = async (stream: NodeJS.ReadableStream) => {
      let bytes = 0;
      for await (const chunk of stream) bytes += (chunk as Buffer).length;
      return bytes;
    };
    // Opened, then left waiting (while the ticket is looked up, say) longer than the idle limit.
    const early = await sut.reporting.supportSessionRecording(session.lsid);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await size(early.stream)).toBe(300_000);

    fake.stallRecordingsAfter = 100_000;
    const stalled = await sut.reporting.supportSessionRecording(session.lsid);
    const error = await within(8_000, size(stalled.stream));
    expect(error).toBeInstanceOf(BeyondTrustUnavailableError);
    expect(error).toMatchObject({ retryable: true, message: 'the appliance sent nothing for 800 ms' });
  });

  it('refuses an answer over 64 MiB as permanent, downloading it once', async () => {
    const sut = harness.client({ timeoutMs: 20_000 });
    const session = fake.startSession();
    await sut.command.checkHealth();
    fake.answerNext(3, { bytes: 64 * 1024 * 1024 + 4096 });
    const error = await sut.reporting.supportSession(session.lsid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BeyondTrustResponseError);
    expect(error).toMatchObject({ retryable: false, message: 'answer exceeds the 67108864-byte limit' });
    expect(apiRequests().filter((r) => r.params.generate_report === 'SupportSession')).toHaveLength(1);
  });

  it('keeps to the shared per-second budget across processes: no 429 from the appliance', async () => {
    await fake.stop();
    fake = await new FakeAppliance({ perSecond: 10 }).start();
    const h = new ClientHarness(fake);
    try {
      const clients = [h.client({ perSecond: 10 }), h.client({ perSecond: 10 })];
      const started = Date.now();
      await Promise.all(clients.flatMap((c) => Array.from({ length: 15 }, () => c.command.checkHealth())));
      expect(fake.rateLimited).toBe(0);
      // 30 requests at 10/s: the last window opens after two full seconds.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    } finally {
      await h.close();
    }
  });

  it('keeps to the budget when requests reach the appliance after uneven delays: no 429, and no stall', async () => {
    await fake.stop();
    // Up to 300 ms on the way: a window of requests granted evenly can arrive squeezed into less than a
    // second, which a limiter counting requests from their grant (with any margin under 300 ms) lets
    // through as 429s.
    fake = await new FakeAppliance({ perSecond: 10, arrivalJitterMs: 300 }).start();
    const h = new ClientHarness(fake);
    try {
      const clients = [h.client({ perSecond: 10 }), h.client({ perSecond: 10 }), h.client({ perSecond: 10 })];
      const started = Date.now();
      await Promise.all(clients.flatMap((c) => Array.from({ length: 20 }, () => c.command.checkHealth())));
      const elapsed = Date.now() - started;
      expect(fake.rateLimited).toBe(0);
      // 60 requests at 10/s need 5 s and more; each request's slot is held for its own latency (150 ms on
      // average here) on top of the window, so about 10 / 1.15 a second: ~7 s, with room for a loaded CI.
      expect(elapsed).toBeGreaterThanOrEqual(4_900);
      expect(elapsed).toBeLessThan(12_000);
    } finally {
      await h.close();
    }
  });

  it('closes the connection after every request, as the guide requires', async () => {
    const seen: string[] = [];
    fake.requests.length = 0;
    const server = (fake as unknown as { server: Server }).server;
    server.on('request', (req) => seen.push(String(req.headers.connection)));
    await harness.client().command.checkHealth();
    expect(seen.every((c) => c === 'close')).toBe(true);
  });
});

describe('BeyondTrust client on malformed and hostile answers', () => {
  let server: Server;
  let answer = '';
  let harness: ClientHarness;

  beforeAll(async () => {
    // A stand-in appliance that answers whatever the test sets, after a normal token exchange.
    server = createServer((req, res) => {
      if (req.url?.startsWith('/oauth2/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ access_token: 't', token_type: 'Bearer', expires_in: 3600 }));
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(answer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    harness = new ClientHarness({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } as FakeAppliance);
  });
  afterAll(async () => {
    await harness.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each([
    [
      'a billion-laughs DOCTYPE',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><logged_in_reps>&b;</logged_in_reps>',
      /DOCTYPE/,
    ],
    [
      'an external entity',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><logged_in_reps>&e;</logged_in_reps>',
      /DOCTYPE/,
    ],
    [
      'a truncated answer',
      '<logged_in_reps xmlns="https://www.beyondtrust.com/namespaces/API/command"><rep id="1"><type>Normal</type></rep>',
      /malformed XML/,
    ],
    ['HTML instead of XML', '<html><body>Maintenance</body>', /malformed XML/],
    ['an empty body', '', /malformed XML|one root element/],
  ])('refuses %s with a clear error', async (_name, body, message) => {
    answer = body;
    const error = await harness
      .client()
      .command.getLoggedInReps()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BeyondTrustResponseError);
    expect((error as Error).message).toMatch(message);
  });
});
