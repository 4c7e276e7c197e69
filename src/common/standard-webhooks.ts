import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (UNIX seconds) and
 * `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the
 * secret's bytes: the base64 after `whsec_`.
 *
 * A secret without the prefix is refused at boot rather than read: the official `standardwebhooks`
 * package base64-decodes such a string too, so a passphrase-like secret that a sender or receiver reads
 * as text would silently never match. One form, made by `whsec_$(openssl rand -base64 32)`, signs alike
 * everywhere.
 *
 * Where a list of secrets is given (the current one and the previous one, during a rotation), a request
 * verifies against any of them and an outgoing webhook is signed with each, so receivers holding either
 * accept it.
 */
export const STANDARD_WEBHOOK_SECRET_HINT = 'make one with whsec_$(openssl rand -base64 32)';
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

/** Why a value is not a usable Standard Webhooks secret, or undefined when it is one. Never repeats the value. */
export function standardWebhookSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith('whsec_')) return `a Standard Webhooks secret: whsec_ followed by base64 (${STANDARD_WEBHOOK_SECRET_HINT})`;
  const encoded = secret.slice('whsec_'.length);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded))
    return `standard base64 after whsec_ (${STANDARD_WEBHOOK_SECRET_HINT})`;
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < MIN_KEY_BYTES || bytes > MAX_KEY_BYTES)
    return `a key of ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes after whsec_, not ${bytes} (${STANDARD_WEBHOOK_SECRET_HINT})`;
  return undefined;
}

/** The HMAC key of a secret checked at boot by standardWebhookSecretProblem. */
export function keyOf(secret: string): Buffer {
  const problem = standardWebhookSecretProblem(secret);
  if (problem) throw new Error(`not a Standard Webhooks secret: ${problem}`);
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

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
