import { REDACTED, redactHeaders, redactUrl, secretScrubber } from '../../../src/logging/redaction';

describe('redaction', () => {
  it('hides credential headers of every system we talk to', () => {
    const out = redactHeaders({
      authorization: 'Bearer x',
      cookie: 'a=b',
      'x-zendesk-webhook-signature': 'sig',
      'webhook-signature': 'v1,sig',
      'x-api-key': 'k',
      'content-type': 'application/json',
    });
    expect(out).toEqual({
      authorization: REDACTED,
      cookie: REDACTED,
      'x-zendesk-webhook-signature': REDACTED,
      'webhook-signature': REDACTED,
      'x-api-key': REDACTED,
      'content-type': 'application/json',
    });
  });

  it('hides credentials in query strings but keeps the rest of the URL', () => {
    expect(redactUrl('/webhooks/beyondtrust?outbound_event_token=abc&lsid=42')).toBe(
      `/webhooks/beyondtrust?outbound_event_token=${REDACTED}&lsid=42`,
    );
    expect(redactUrl('/healthz')).toBe('/healthz');
  });

  it('replaces configured secrets wherever they appear, raw, JSON-escaped or URL-encoded', () => {
    const scrub = secretScrubber(['pa"ss/word-123', 'token-0123456789abcdef']);
    const line = JSON.stringify({
      msg: 'failed with pa"ss/word-123',
      url: `/x?k=${encodeURIComponent('pa"ss/word-123')}`,
      t: 'Bearer token-0123456789abcdef',
    });
    const out = scrub(line);
    expect(out).not.toContain('ss/word-123');
    expect(out).not.toContain('token-0123456789abcdef');
    expect(out.split(REDACTED)).toHaveLength(4);
  });

  it('leaves lines alone when there is no secret', () => {
    expect(secretScrubber([])('{"a":1}')).toBe('{"a":1}');
  });
});
