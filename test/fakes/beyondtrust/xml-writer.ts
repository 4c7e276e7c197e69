/**
 * Just enough XML writing for the fake appliance; escaping is the part that must be right. Beyond the
 * markup characters, every character outside ASCII goes out as a numeric character reference (decimal
 * below U+FFFF, hexadecimal above), as an XML writer may legitimately do: the client must decode both.
 */
export const esc = (value: unknown): string => {
  let out = '';
  for (const ch of String(value ?? '')) {
    const cp = ch.codePointAt(0)!;
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"') out += '&quot;';
    else if (ch === "'") out += '&apos;';
    else if (cp > 0xffff) out += `&#x${cp.toString(16).toUpperCase()};`;
    else if (cp > 0x7e) out += `&#${cp};`;
    else out += ch;
  }
  return out;
};

export type Attrs = Record<string, string | number | undefined>;

const attrs = (a: Attrs = {}): string =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');

/** `el('name', {id: 1}, 'text')` or `el('name', {}, [children...])`; undefined content makes a self-closed tag. */
export function el(name: string, a: Attrs = {}, content?: string | string[]): string {
  if (content === undefined) return `<${name}${attrs(a)}/>`;
  const inner = Array.isArray(content) ? content.join('') : esc(content);
  return `<${name}${attrs(a)}>${inner}</${name}>`;
}

export const NS = {
  command: 'https://www.beyondtrust.com/namespaces/API/command',
  reporting: 'https://www.beyondtrust.com/namespaces/API/reporting',
};

export const document = (root: string, ns: string, children: string | string[], a: Attrs = {}): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${ns}"${attrs(a)}>${Array.isArray(children) ? children.join('') : esc(children)}</${root}>`;
