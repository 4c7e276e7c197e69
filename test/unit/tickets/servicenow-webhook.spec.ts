import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { TicketWebhookError } from '../../../src/tickets/webhook.errors';
import { verifyServiceNowRequest } from '../../../src/tickets/servicenow/servicenow.webhook';

const SECRET = 'servicenow-secret-0123456789';
const BODY = Buffer.from('{"action":"create_session_key","delivery_id":"d-1"}');
const NOW = 1_800_000_000_000;
const TOLERANCE = 300;

const hmac = (data: string | Buffer) => createHmac('sha256', SECRET).update(data).digest('base64');
const timed = (seconds = NOW / 1000) => ({
  'x-rsb-timestamp': String(seconds),
  'x-rsb-signature': hmac(Buffer.concat([Buffer.from(`${seconds}.`), BODY])),
});
const untimed = { 'x-rsb-signature': hmac(BODY) };
const secretHeader = { 'x-rsb-webhook-secret': SECRET };
const basic = { authorization: `Basic ${Buffer.from(`servicenow:${SECRET}`).toString('base64')}` };

const refusal = (headers: Record<string, string>, requireTimestamp: boolean): string | undefined => {
  try {
    verifyServiceNowRequest(BODY, headers, [SECRET], TOLERANCE, NOW, requireTimestamp);
    return undefined;
  } catch (error) {
    if (error instanceof TicketWebhookError) return error.code;
    throw error;
  }
};

describe('ServiceNow request authentication', () => {
  it('accepts each documented form by default', () => {
    for (const headers of [timed(), untimed, secretHeader, basic]) expect(refusal(headers, false)).toBeUndefined();
  });

  it('with SERVICENOW_REQUIRE_TIMESTAMP accepts only a signature over a fresh timestamp', () => {
    expect(refusal(timed(), true)).toBeUndefined();
    for (const headers of [untimed, secretHeader, basic, {}]) expect(refusal(headers, true)).toBe('timestamp_required');
    expect(refusal(timed(NOW / 1000 - TOLERANCE - 1), true)).toBe('stale_timestamp');
    expect(refusal({ ...timed(), 'x-rsb-timestamp': String(NOW / 1000 + 1) }, true)).toBe('invalid_signature');
  });
});
