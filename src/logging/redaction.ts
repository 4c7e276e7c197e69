/** Header and query-parameter names whose values are credentials, whatever system sent them. */
export const SENSITIVE_NAME = /authorization|cookie|signature|secret|token|password|api[-_]?key|session[-_]?id/i;

export const REDACTED = '[REDACTED]';

export function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = SENSITIVE_NAME.test(name) ? REDACTED : value;
  return out;
}

/** Hides credentials passed in a query string (the appliance may send its event token that way). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      // A name that cannot be decoded (`?%=`) is redacted too: it must not take the line with it.
      let decoded: string | undefined;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        decoded = undefined;
      }
      return eq >= 0 && (decoded === undefined || SENSITIVE_NAME.test(decoded)) ? `${name}=${REDACTED}` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

/**
 * The last line of defence: replaces every configured secret value, raw or JSON-escaped, in a log
 * line about to be written, wherever in the line it ended up (an error message, a URL, a body).
 */
export function secretScrubber(secrets: string[]): (line: string) => string {
  const needles = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]))]
    .filter((s) => s.length > 0)
    .sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  };
}
