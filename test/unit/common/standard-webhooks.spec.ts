import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { keyOf, standardWebhookHeaders, standardWebhookSecretProblem, verifyStandardWebhook } from '../../../src/common/standard-webhooks';

describe('Standard Webhooks, against the official library', () => {
  const secrets = Array.from({ length: 5 }, (_, i) => `whsec_${randomBytes(24 + i * 10).toString('base64')}`);
  const body = JSON.stringify({ hello: 'wörld', n: 1 });

  it.each(secrets)('signs what the official library verifies (%#)', (secret) => {
    const headers = standardWebhookHeaders(secret, 'msg_1', body);
    expect(new Webhook(secret).verify(body, headers)).toEqual({ hello: 'wörld', n: 1 });
  });

  it.each(secrets)('verifies what the official library signs (%#)', (secret) => {
    const at = new Date();
    const headers = {
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('msg_2', at, body),
    };
    expect(verifyStandardWebhook(secret, headers, Buffer.from(body), 300)).toEqual({ ok: true, id: 'msg_2' });
  });

  it('keys the HMAC with the base64-decoded bytes after whsec_, as the specification says', () => {
    const key = randomBytes(32);
    expect(keyOf(`whsec_${key.toString('base64')}`).equals(key)).toBe(true);
  });

  it('refuses a secret the official library would read differently from a text-minded peer, saying how to make one', () => {
    expect(standardWebhookSecretProblem('plain-text-secret-0123456789')).toMatch(/whsec_\$\(openssl rand -base64 32\)/);
    expect(() => keyOf('plain-text-secret-0123456789')).toThrow(/not a Standard Webhooks secret/);
    expect(standardWebhookSecretProblem('whsec_%%%')).toMatch(/standard base64/);
    expect(standardWebhookSecretProblem(secrets[0])).toBeUndefined();
  });
});
