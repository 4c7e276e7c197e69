import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BeyondTrustApiError, BeyondTrustResponseError } from './beyondtrust.errors';

/** Reports of thousands of sessions are large, but anything past this is not an appliance answer. */
export const MAX_XML_BYTES = 64 * 1024 * 1024;

/**
 * Elements the guide documents as repeatable. They are always arrays, even when the appliance sends
 * one (or none): callers never have to guess between an object and a list.
 */
const REPEATED = new Set([
  'rep',
  'support_team',
  'issue',
  'representative',
  'session',
  'session_summary',
  'summary',
  'custom_attribute',
  'show_my_screen_recording',
  'command_shell_recording',
  'customer',
  'team',
  'event',
  'cust_exit_survey',
  'rep_exit_survey',
  'exit_survey',
  'question',
  'answer',
  'category',
  'field',
  'row',
  'file',
  'value',
  'appliance',
  'permission',
  'connected_client',
  'connected_representative',
  'connected_support_customer',
  'connected_presentation_attendee',
  'connected_push_agent',
  'client_connection',
  'lsid',
  'team_activity',
  'state_archive',
  'event_archive',
  'attendee',
  'presenter',
  'appliance_summary',
  'presentation_summary',
  'license_time_interval',
  'license_count',
  'destination',
  'count',
  'ip',
]);

/** XML 1.0 `Char`: a reference to anything else (NUL, a lone surrogate, U+FFFE) is not text. */
const isXmlChar = (cp: number) =>
  cp === 0x9 ||
  cp === 0xa ||
  cp === 0xd ||
  (cp >= 0x20 && cp <= 0xd7ff) ||
  (cp >= 0xe000 && cp <= 0xfffd) ||
  (cp >= 0x10000 && cp <= 0x10ffff);
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const REFERENCE = /&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));/g;

/**
 * Decodes what XML itself defines and nothing more: the five predefined entities and numeric character
 * references (`&#233;`, `&#x263A;`), in one pass (so `&amp;#233;` stays the text "&#233;"). fast-xml-parser 5
 * leaves numeric references alone unless its HTML entities are on, which would also decode `&nbsp;` and
 * the like; its documented `entityDecoder` hook lets us decode exactly XML's set. No DOCTYPE ever reaches
 * the parser, so there are no declared entities to add.
 */
export function decodeXmlReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(REFERENCE, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name) return PREDEFINED[name];
    const cp = hex !== undefined ? parseInt(hex, 16) : Number(dec);
    return isXmlChar(cp) ? String.fromCodePoint(cp) : whole;
  });
}

const xmlEntities = {
  decode: decodeXmlReferences,
  reset: () => undefined,
  setXmlVersion: () => undefined,
  setExternalEntities: () => undefined,
  addInputEntities: () => {
    throw new Error('entity declarations are refused');
  },
};

/** Elements whose text is kept exactly as sent: a chat line's leading and trailing spaces are part of it. */
const UNTRIMMED = new Set(['body']);

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  textNodeName: '#text',
  // Values stay strings: an external key "00123" or a ticket number must not become a number.
  parseTagValue: false,
  parseAttributeValue: false,
  // Trimming is done per element below, so a chat body keeps its whitespace; whitespace between
  // elements trims to nothing and is dropped.
  trimValues: false,
  tagValueProcessor: (name, value) => (UNTRIMMED.has(name) ? value : value.trim()),
  attributeValueProcessor: (_name, value) => value.trim(),
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  entityDecoder: xmlEntities,
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && REPEATED.has(name),
});

export type XmlNode = Record<string, unknown>;

/**
 * Parses an appliance answer. Refuses a DOCTYPE outright (the appliance never sends one, and it is
 * how entity-expansion attacks start), oversized, malformed or truncated documents, and returns the root
 * element's name and content. An `<error>` answer, at the root or inside the root, throws
 * BeyondTrustApiError with the appliance's message: never a silent empty result.
 */
export function parseApplianceXml(text: string, operation?: string): { root: string; node: XmlNode } {
  if (text.length > MAX_XML_BYTES)
    throw new BeyondTrustResponseError(`answer of ${text.length} bytes exceeds the ${MAX_XML_BYTES}-byte limit`, operation);
  if (/<!DOCTYPE|<!ENTITY/i.test(text))
    throw new BeyondTrustResponseError('answer carries a DOCTYPE or entity declaration; refused', operation);
  // The parser forgives mismatched tags; the validator does not, and a mangled answer must not pass.
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new BeyondTrustResponseError(`malformed XML: ${valid.err.msg} (line ${valid.err.line})`, operation);
  let parsed: XmlNode;
  try {
    parsed = parser.parse(text) as XmlNode;
  } catch (error) {
    throw new BeyondTrustResponseError(`malformed XML: ${(error as Error).message.split('\n')[0]}`, operation);
  }
  const roots = Object.keys(parsed).filter((k) => !k.startsWith('?') && k !== '#text');
  if (roots.length !== 1) throw new BeyondTrustResponseError(`malformed XML: expected one root element, found ${roots.length}`, operation);
  const root = roots[0];

  const raw = parsed[root];
  const node: XmlNode = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as XmlNode) : { '#text': raw ?? '' };
  if (root === 'error') throw new BeyondTrustApiError(text_(raw) || 'the appliance answered an error without a message', operation);
  if ('error' in node) throw new BeyondTrustApiError(text_(node.error) || 'the appliance answered an error without a message', operation);
  return { root, node };
}

// --- small readers for mapping parsed nodes into typed objects ------------------------------------

/** The text of an element, whether the parser made it a string or an object with attributes. */
export function text_(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return text_(value[0]);
  if (typeof value === 'object') return text_((value as XmlNode)['#text']);
  return String(value);
}

export const optText = (value: unknown): string | undefined => (value === undefined ? undefined : text_(value));

export function int(value: unknown): number | undefined {
  const t = text_(value);
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

export const bool = (value: unknown): boolean => text_(value) === '1' || text_(value).toLowerCase() === 'true';

export function attr(value: unknown, name: string): string | undefined {
  // An element the guide lists as repeatable in one answer may stand alone in another (<appliance>).
  if (Array.isArray(value)) return attr(value[0], name);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const a = (value as XmlNode)[name];
  return typeof a === 'string' ? a : undefined;
}

export const list = (value: unknown): XmlNode[] => (Array.isArray(value) ? (value as XmlNode[]) : []);

export const child = (node: unknown, name: string): XmlNode => {
  const v = node !== null && typeof node === 'object' ? (node as XmlNode)[name] : undefined;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as XmlNode) : {};
};

export interface Timestamp {
  /** ISO 8601: as the appliance wrote it when it carries a zone, else derived from the UNIX time. */
  iso: string;
  /** UNIX seconds. */
  unix: number;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const ISO_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/;

/**
 * A time in any form the guide shows: ISO 8601 text with a `timestamp` (reports) or `ts` (command API)
 * attribute in UNIX seconds; ISO text alone; UNIX seconds as the text (`<expires>` and `<timestamp>` say
 * only "the timestamp"); or "system time" text beside a UTC `timestamp` attribute (the roots of SupportTeam
 * and LicenseUsage). The attribute wins when present; text without a zone and without an attribute is read
 * as UTC. Undefined when nothing in it is a time: never NaN.
 */
export function timestamp(value: unknown): Timestamp | undefined {
  const text = text_(value).trim();
  const attribute = attr(value, 'timestamp') ?? attr(value, 'ts');
  const fromAttribute = attribute !== undefined && /^\d+(\.\d+)?$/.test(attribute.trim()) ? Math.floor(Number(attribute)) : undefined;
  let fromText: number | undefined;
  if (/^\d+(\.\d+)?$/.test(text)) fromText = Math.floor(Number(text));
  else if (ISO_WITH_ZONE.test(text)) fromText = Math.floor(Date.parse(text.replace(' ', 'T')) / 1000);
  else if (ISO_WITHOUT_ZONE.test(text))
    fromText = Math.floor(Date.parse(`${text.replace(' ', 'T')}${text.length > 10 ? 'Z' : 'T00:00:00Z'}`) / 1000);
  if (fromText !== undefined && !Number.isFinite(fromText)) fromText = undefined;
  const unix = fromAttribute ?? fromText;
  if (unix === undefined) return undefined;
  return { iso: isoOf(unix, text), unix };
}

function isoOf(unix: number, text: string): string {
  // The appliance's own ISO text is kept when it says the same instant; anything else is rewritten in UTC.
  if (ISO_WITH_ZONE.test(text) && Math.floor(Date.parse(text.replace(' ', 'T')) / 1000) === unix) return text;
  return new Date(unix * 1000).toISOString().replace('.000Z', 'Z');
}
