import { UpscopeClient, UpscopeError } from '../../../src/upscope/upscope.client';
import { FakeUpscope } from '../../fakes/upscope/fake-upscope';

describe('UpscopeClient against the fake on-premise server', () => {
  let upscope: FakeUpscope;
  let client: UpscopeClient;

  beforeAll(async () => {
    upscope = await new FakeUpscope().start();
    client = new UpscopeClient({ baseUrl: upscope.url, restKey: upscope.restKey, licenseToken: upscope.licenseToken });
    upscope.addVisitor({ short_id: 'v1', email: 'a@example.com', ip: '198.51.100.4', tags: ['vip'], lookup_code: '1234' });
    upscope.addVisitor({ short_id: 'v2', name: 'Bea Offline', online: false });
  });
  afterAll(() => upscope.stop());

  it('lists the latest online visitors and searches by every documented form', async () => {
    expect((await client.latest()).map((v) => v.shortId)).toEqual(['v1']);
    for (const q of ['a@example.com', 'id:v1', 'ip:198.51.100.4', '1234', '#vip'])
      expect((await client.search(q)).map((v) => v.shortId)).toEqual(['v1']);
    expect((await client.search('bea')).map((v) => v.shortId)).toEqual(['v2']);
  });

  it('gets a visitor by short id, or undefined', async () => {
    expect(await client.visitor('v1')).toMatchObject({ shortId: 'v1', email: 'a@example.com', lookupCode: '1234' });
    expect(await client.visitor('nope')).toBeUndefined();
  });

  it('turns refusals into clear, non-retryable errors', async () => {
    const wrongKey = new UpscopeClient({ baseUrl: upscope.url, restKey: 'wrong-key-000', licenseToken: upscope.licenseToken });
    await expect(wrongKey.latest()).rejects.toMatchObject({
      kind: 'unauthorized',
      retryable: false,
      message: 'Upscope refused the REST key (check UPSCOPE_REST_KEY)',
    });
    await expect(client.watchUrl('nope', { agent: { id: '1', name: 'A' } })).rejects.toBeInstanceOf(UpscopeError);
    // The document describes no error answers: any other refusal is read by its HTTP status alone, no invented meaning.
    upscope.failNext(1, 402);
    await expect(client.watchUrl('v1', { agent: { id: '1', name: 'A' } })).rejects.toMatchObject({
      kind: 'refused',
      status: 402,
      retryable: false,
      message: 'Upscope refused the request (HTTP 402: HTTP 402)',
    });
    upscope.failNext(1, 503);
    await expect(client.latest()).rejects.toMatchObject({ kind: 'unavailable', status: 503, retryable: true });
    const down = new UpscopeClient({ baseUrl: 'http://127.0.0.1:9', restKey: 'k', licenseToken: 't' });
    await expect(down.latest()).rejects.toMatchObject({ kind: 'unavailable', retryable: true });
  });

  it('gives up on an answer trickling in a byte every 200 ms once its deadline has passed in total', async () => {
    const slow = new UpscopeClient({ baseUrl: upscope.url, restKey: upscope.restKey, licenseToken: upscope.licenseToken, timeoutMs: 600 });
    upscope.trickleMs = 200;
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        slow.latest().catch((e: unknown) => e),
        new Promise((resolve) => (timer = setTimeout(resolve, 8_000, 'still waiting'))),
      ]);
      expect(outcome).toMatchObject({ kind: 'unavailable', retryable: true, message: 'Upscope did not answer (within 600 ms)' });
    } finally {
      clearTimeout(timer);
      upscope.trickleMs = undefined;
    }
  });
});
