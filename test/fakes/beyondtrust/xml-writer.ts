/** Just enough XML writing for the fake appliance; escaping is the part that must be right. */
export const esc = (value: unknown): string =>
  String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

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
