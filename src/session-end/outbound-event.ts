/**
 * The appliance's outbound events (form-encoded POSTs to an HTTP recipient). Each carries the standard
 * `event`, `version` and `timestamp`; support-session events add `appliance_id`, `lsid` and `external_key`,
 * member and owner events the member (`type`: representative or customer, `user_id`, `username`,
 * `display_name`). Nothing of ours rides in the body: the appliance posts only its own variables.
 */
export const SESSION_END_EVENT = 'support_conference_end';
export const SURVEY_EVENTS = new Set(['support_conference_customer_exit_survey_completed', 'support_conference_rep_exit_survey_completed']);
export const STATE_EVENTS = new Set([
  'support_conference_begin',
  'support_conference_member_added',
  'support_conference_member_departed',
  'support_conference_owner_changed',
]);

export interface OutboundEvent {
  event: string;
  lsid?: string;
  externalKey?: string;
  /** UNIX seconds, as the appliance sent it. */
  timestamp?: number;
  /** Every other variable (representative, custom fields), as sent. */
  fields: Record<string, string>;
}

/** The body as a form parser gives it: a repeated variable arrives as a list; the first counts. */
export function parseOutboundEvent(body: unknown): OutboundEvent {
  // Any name the appliance (or anyone holding the token) sends is a plain key here, never a prototype.
  const fields = Object.create(null) as Record<string, string>;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === 'string') fields[name] = first;
    }
  }
  const { event = '', lsid, external_key: externalKey, timestamp, ...rest } = fields;
  const seconds = Number(timestamp);
  return {
    event,
    lsid: lsid && /^[A-Za-z0-9_-]{1,64}$/.test(lsid) ? lsid : undefined,
    externalKey: externalKey || undefined,
    timestamp: Number.isFinite(seconds) && seconds > 0 ? seconds : undefined,
    fields: rest,
  };
}
