import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (UNIX seconds) and
 * `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. A `whsec_`
 * secret is base64 after the prefix; any other secret is used as its UTF-8 bytes. Where a list of
 * secrets is given (the current one and the previous one, during a rotation), a request verifies
 * against any of them and an outgoing webhook is signed with each, so receivers holding either accept it.
 */
export const keyOf = (secret: string): Buffer =>
  secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');

export function signStandardWebhook(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

export function standardWebhookHeaders(secrets: string | string[], id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': [secrets]
      .flat()
      .map((secret) => signStandardWebhook(secret, id, timestamp, body))
      .join(' '),
  };
}

export type VerifyResult =
  { ok: true; id: string } | { ok: false; code: 'missing_headers' | 'invalid_signature' | 'stale_timestamp'; message: string };

export function verifyStandardWebhook(
  secrets: string | string[],
  headers: Record<string, unknown>,
  rawBody: Buffer,
  toleranceSeconds: number,
  now = Date.now(),
): VerifyResult {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signature = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string' || !id || !/^\d+$/.test(timestamp)) {
    return {
      ok: false,
      code: 'missing_headers',
      message: 'webhook-id, webhook-timestamp (UNIX seconds) and webhook-signature are required',
    };
  }
  const expected = [secrets]
    .flat()
    .map((secret) => Buffer.from(signStandardWebhook(secret, id, Number(timestamp), rawBody).slice(3), 'base64'));
  let valid = false;
  for (const candidate of signature.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const presented = Buffer.from(value, 'base64');
    for (const mac of expected) valid = (presented.length === mac.length && timingSafeEqual(presented, mac)) || valid;
  }
  if (!valid) return { ok: false, code: 'invalid_signature', message: 'webhook-signature does not match the configured secret' };
  if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) {
    return {
      ok: false,
      code: 'stale_timestamp',
      message: `webhook-timestamp is more than ${toleranceSeconds} s from our clock; replays are refused`,
    };
  }
  return { ok: true, id };
}
