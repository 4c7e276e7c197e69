import { PassThrough, Readable } from 'node:stream';
import { watchIdle } from '../../../src/outbound/deadline';

class Stalled extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const readAll = async (stream: Readable): Promise<number> => {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  return bytes;
};

describe('watchIdle', () => {
  it('does not count while a stream whose first bytes arrived waits for its consumer', async () => {
    const source = new PassThrough();
    const watched = watchIdle(source, 100, () => new Stalled('idle'));
    // Smaller than any highWaterMark: Node reads ahead on its own to fill the buffer, which is not the
    // consumer reading.
    source.write(Buffer.alloc(1_000));
    await sleep(300);
    expect(watched.destroyed).toBe(false);
    source.end(Buffer.alloc(500));
    expect(await readAll(watched)).toBe(1_500);
  });

  it("cuts a stream that stops moving once its consumer reads, with the caller's error", async () => {
    const source = new PassThrough();
    const watched = watchIdle(source, 100, () => new Stalled('idle'));
    source.write(Buffer.alloc(1_000));
    await expect(readAll(watched)).rejects.toBeInstanceOf(Stalled);
    expect(source.destroyed).toBe(true);
  });

  it('keeps a failure that comes before any reader for the reader, without an unhandled error', async () => {
    const source = new PassThrough();
    const watched = watchIdle(source, 100, () => new Stalled('idle'));
    source.write(Buffer.alloc(1_000));
    source.destroy(new Error('connection reset'));
    // An 'error' nobody listens to throws on the next tick and fails this test.
    await sleep(50);
    expect(watched.destroyed).toBe(true);
    await expect(readAll(watched)).rejects.toThrow('connection reset');
  });
});
