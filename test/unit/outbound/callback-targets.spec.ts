import { LookupAddress } from 'node:dns';
import { hostMatches, isPublicAddress, publicOnlyLookup } from '../../../src/outbound/callback-targets';

const lookupOf = (host: string, all: boolean) =>
  new Promise<{ error: Error | null; address: string | LookupAddress[] }>((resolve) =>
    publicOnlyLookup(host, { all }, (error, address) => resolve({ error, address })),
  );

describe('callback targets', () => {
  it.each([
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.0.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd12::1', false],
    ['::ffff:127.0.0.1', false],
    ['64:ff9b::7f00:1', false],
    ['224.0.0.1', false],
    ['not-an-address', false],
    ['203.0.113.9', false], // documentation range: nobody's callback
    ['8.8.8.8', true],
    ['2606:4700::1111', true],
  ])('%s is public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it('matches hosts exactly and *.domain patterns on subdomains only', () => {
    const patterns = ['hooks.example.com', '*.bots.example.com'];
    expect(hostMatches('HOOKS.example.com', patterns)).toBe(true);
    expect(hostMatches('hooks.example.com.', patterns)).toBe(true);
    expect(hostMatches('a.bots.example.com', patterns)).toBe(true);
    expect(hostMatches('bots.example.com', patterns)).toBe(false);
    expect(hostMatches('xbots.example.com', patterns)).toBe(false);
    expect(hostMatches('hooks.example.com.evil.net', patterns)).toBe(false);
  });

  it.each([true, false])('refuses a name resolving to loopback when the socket resolves it (all: %s)', async (all) => {
    const { error } = await lookupOf('localhost', all);
    expect(error).toMatchObject({ code: 'ERR_CALLBACK_ADDRESS_REFUSED', message: expect.stringContaining('localhost resolves to') });
  });
});
