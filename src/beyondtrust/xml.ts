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
  'connected_customer',
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

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  textNodeName: '#text',
  // Values stay strings: an external key "00123" or a ticket number must not become a number.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  htmlEntities: false,
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
  /** ISO 8601, as the appliance writes it. */
  iso: string;
  /** UNIX seconds, from the `timestamp` attribute. */
  unix: number;
}

/** `<start_time timestamp="1475308800">2016-10-01T08:00:00+00:00</start_time>` → both forms. */
export function timestamp(value: unknown): Timestamp | undefined {
  const unix = int(attr(value, 'timestamp') ?? attr(value, 'ts'));
  const iso = text_(value);
  if (unix === undefined && iso === '') return undefined;
  return { iso: iso || new Date((unix ?? 0) * 1000).toISOString(), unix: unix ?? Math.floor(Date.parse(iso) / 1000) };
}
