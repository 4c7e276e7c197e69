import { plainToInstance, Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
  validateSync,
  ValidationError,
} from 'class-validator';
import { Liquid } from 'liquidjs';
import {
  DEFAULT_NOTE_HTML,
  DEFAULT_NOTE_TEXT,
  DEFAULT_RECORDING_LINK,
  DEFAULT_SESSION_FAILURE_NOTE,
  DEFAULT_SURVEY_TEXT,
  DEFAULT_TICKET_SUBJECT,
  DEFAULT_TRANSCRIPT_HTML,
  DEFAULT_TRANSCRIPT_TEXT,
} from './session-end-templates';

export const TICKET_SYSTEMS = ['zendesk', 'servicenow', 'jira', 'generic'] as const;
export type TicketSystemName = (typeof TICKET_SYSTEMS)[number];
export const TICKET_ACTIONS = ['session.requested', 'cobrowse.requested', 'jump.requested'] as const;
export type TicketAction = (typeof TICKET_ACTIONS)[number];
export const QUEUE_ID = /^(general|team:\d+|rep:\d+|rep_username:\S+|issue:\S+)$/;
const QUEUE_MESSAGE = 'a queue: general, team:<id>, rep:<id>, rep_username:<name> or issue:<code>';

/** What a routing rule looks at. Every criterion given must hold; lists match when any value does (tags: all). */
export class RoutingMatch {
  @IsOptional() @IsIn(TICKET_SYSTEMS, { message: `one of ${TICKET_SYSTEMS.join(', ')}` }) system?: TicketSystemName;
  @IsOptional() @IsArray({ message: 'a list of group names' }) @IsString({ each: true }) groups?: string[];
  @IsOptional() @IsArray({ message: 'a list of priorities' }) @IsString({ each: true }) priorities?: string[];
  @IsOptional() @IsArray({ message: 'a list of tags (all must be on the ticket)' }) @IsString({ each: true }) tags?: string[];
  @IsOptional() @IsObject({ message: 'a mapping of custom field name to value' }) fields?: Record<string, string>;
}

export class RoutingRule {
  @IsOptional() @IsString() name?: string;
  @ValidateNested() @Type(() => RoutingMatch) match: RoutingMatch = new RoutingMatch();
  @Matches(QUEUE_ID, { message: QUEUE_MESSAGE }) queue!: string;
  @IsOptional() @IsInt({ message: 'a session priority: 1 (high), 2 or 3' }) @Min(1) @Max(3) priority?: 1 | 2 | 3;
  @IsOptional() @IsArray({ message: 'a list of skill code names' }) @IsString({ each: true }) skills?: string[];
}

export class RoutingRules {
  @Matches(QUEUE_ID, { message: QUEUE_MESSAGE }) default = 'general';
  @IsArray() @ValidateNested({ each: true }) @Type(() => RoutingRule) rules: RoutingRule[] = [];
  /** Ticket priority → session priority, when no rule sets one. */
  @IsObject() priorities: Record<string, 1 | 2 | 3> = { urgent: 1, critical: 1, high: 1, normal: 2, moderate: 2, low: 3, planning: 3 };
}

export class SessionKeyRules {
  /** Liquid: the external key that ties the session back to the ticket. */
  @IsString() externalKey = '{{ ticket.number }}';
  @IsOptional() @IsInt({ message: 'seconds the key stays valid' }) @Min(60) ttl?: number;
  @IsOptional() @IsString() urlHostname?: string;
}

export class ZendeskWriteBack {
  /** Zendesk custom field id → Liquid value. */
  @IsOptional() @IsObject() customFields?: Record<string, string>;
  /** Added with additional_tags (never replacing the ticket's tags). */
  @IsOptional() @IsArray() @IsString({ each: true }) tags?: string[];
}

const DEFAULT_PUBLIC_REPLY = `To start your remote support session, open {{ key.url }}
or go to {{ key.site }} and enter the code {{ key.shortKey }}.
The link is valid until {{ key.expiresAt | date: "%Y-%m-%d %H:%M UTC", "UTC" }}.`;

const DEFAULT_INTERNAL_NOTE = `Remote support session key {{ key.shortKey }} created for queue {{ key.queue }}
({% if key.available %}a representative is available{% else %}no representative is available right now{% endif %}).
Key URL: {{ key.url }}
External key: {{ key.externalKey }} · valid until {{ key.expiresAt | date: "%Y-%m-%d %H:%M UTC", "UTC" }}`;

const DEFAULT_FAILURE_NOTE = `rs-bridge could not create a remote support session key: {{ error.message }}
Nothing was sent to the customer. Fix the cause (routing rules, the queue, the appliance) and request the session again.`;

export class ServiceNowWriteBack {
  /** Record field → Liquid value, set with the internal note. */
  @IsOptional() @IsObject() fields?: Record<string, string>;
}

/**
 * A Jira field's value as its REST API takes it: a Liquid string for text fields, or the field's own JSON
 * shape (`{ value: Hardware }` for a select list, a list of those for a multi-select, a number), passed
 * through as JSON with each string inside rendered as Liquid.
 */
export type JiraFieldValue = string | number | boolean | null | JiraFieldValue[] | { [key: string]: JiraFieldValue };

/** Each string in a field value with its path: the Liquid templates in it. */
export function fieldTemplates(value: unknown, path: string): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => fieldTemplates(v, `${path}.${i}`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => fieldTemplates(v, `${path}.${k}`));
  return [];
}

export class JiraWriteBack {
  /** Issue field id (customfield_10042) → Liquid value or the field's JSON shape, set with the internal note. */
  @IsOptional() @IsObject() fields?: Record<string, JiraFieldValue>;
  /** Labels added to the issue (never replacing its own). */
  @IsOptional() @IsArray() @IsString({ each: true }) labels?: string[];
}

export const INTERNAL_NOTE_TIMINGS = ['auto', 'withKey', 'withSessionEnd'] as const;
export type InternalNoteTiming = (typeof INTERNAL_NOTE_TIMINGS)[number];

export class WriteBackRules {
  /** Liquid; an empty string sends no public reply. */
  @IsString() publicReply = DEFAULT_PUBLIC_REPLY;
  /** Liquid; an empty string writes no internal note. */
  @IsString() internalNote = DEFAULT_INTERNAL_NOTE;
  /**
   * When the key's internal note is written: with the key, or on the session's first note (or when the key
   * expires unused). `auto` defers it only where it would cost an update of its own against the account's
   * limit (Zendesk takes one comment per update); see docs/rules.md.
   */
  @IsIn(INTERNAL_NOTE_TIMINGS, { message: `one of ${INTERNAL_NOTE_TIMINGS.join(', ')}` }) internalNoteTiming: InternalNoteTiming = 'auto';
  @IsString() failureNote = DEFAULT_FAILURE_NOTE;
  @ValidateNested() @Type(() => ZendeskWriteBack) zendesk = new ZendeskWriteBack();
  @ValidateNested() @Type(() => ServiceNowWriteBack) servicenow = new ServiceNowWriteBack();
  @ValidateNested() @Type(() => JiraWriteBack) jira = new JiraWriteBack();
}

/** Flow 2: what an ended session writes on its ticket (Liquid; see src/config/session-end-templates.ts). */
export class SessionEndRules {
  /** Internal note for systems that show HTML (Zendesk html_body). */
  @IsString() noteHtml = DEFAULT_NOTE_HTML;
  /** Internal note for text systems (ServiceNow work notes, generic callbacks). */
  @IsString() noteText = DEFAULT_NOTE_TEXT;
  /** The attached transcript file: .html for Zendesk, .txt elsewhere. */
  @IsString() transcriptHtml = DEFAULT_TRANSCRIPT_HTML;
  @IsString() transcriptText = DEFAULT_TRANSCRIPT_TEXT;
  /** A survey that arrives after the note was written. */
  @IsString() surveyNote = DEFAULT_SURVEY_TEXT;
  /** A recording that is linked instead of attached. */
  @IsString() recordingLink = DEFAULT_RECORDING_LINK;
  /** Subject of a ticket created for an unlinked session (RSB_AUTO_CREATE). */
  @IsString() ticketSubject = DEFAULT_TICKET_SUBJECT;
  /** Internal note when a session cannot be written for good: what is missing and how to resync. */
  @IsString() failureNote = DEFAULT_SESSION_FAILURE_NOTE;
}

export class TriggerRules {
  /** For Zendesk event subscriptions: a tag added to a ticket → the action it asks for. */
  @IsObject() zendeskTags: Record<string, TicketAction> = { remote_support: 'session.requested' };
  /** For Jira webhooks and automation rules: a label added to an issue → the action it asks for. */
  @IsObject() jiraLabels: Record<string, TicketAction> = { remote_support: 'session.requested' };
}

export const SESSION_OUTCOMES = ['ended', 'customer_never_joined'] as const;
export type SessionOutcome = (typeof SESSION_OUTCOMES)[number];

/** What an outcome rule looks at; every criterion given must hold. Survey and attribute values compare without case. */
export class OutcomeMatch {
  @IsOptional()
  @IsArray()
  @IsIn(TICKET_SYSTEMS, { each: true, message: `systems: ${TICKET_SYSTEMS.join(', ')}` })
  systems?: TicketSystemName[];
  @IsOptional()
  @IsArray()
  @IsIn(SESSION_OUTCOMES, { each: true, message: `outcomes: ${SESSION_OUTCOMES.join(', ')}` })
  outcomes?: SessionOutcome[];
  @IsOptional() @IsInt({ message: 'seconds' }) @Min(0) minDurationSeconds?: number;
  @IsOptional() @IsInt({ message: 'seconds' }) @Min(0) maxDurationSeconds?: number;
  /** Question (its label, report header or name) → answer, or a list of answers any of which matches. */
  @IsOptional() @IsObject() repSurvey?: Record<string, string | string[]>;
  @IsOptional() @IsObject() customerSurvey?: Record<string, string | string[]>;
  /** Custom attribute code name → value, or a list of values. */
  @IsOptional() @IsObject() custom?: Record<string, string | string[]>;
}

export class ZendeskOutcome {
  @IsOptional()
  @IsIn(['open', 'pending', 'hold', 'solved', 'closed'], { message: 'open, pending, hold, solved or closed' })
  status?: string;
  /** Custom field id → Liquid value. */
  @IsOptional() @IsObject() customFields?: Record<string, string>;
  /** Added with additional_tags. */
  @IsOptional() @IsArray() @IsString({ each: true }) tags?: string[];
}

export class ServiceNowOutcome {
  @IsOptional() @IsString() state?: string;
  @IsOptional() @IsString() close_code?: string;
  /** Liquid. */
  @IsOptional() @IsString() close_notes?: string;
  /** Any other field → Liquid value. */
  @IsOptional() @IsObject() fields?: Record<string, string>;
}

export class JiraOutcome {
  /** A workflow transition by name or id. */
  @IsOptional() @IsString() transition?: string;
  /** Field id → Liquid value or the field's JSON shape (see JiraFieldValue). */
  @IsOptional() @IsObject() fields?: Record<string, JiraFieldValue>;
  @IsOptional() @IsArray() @IsString({ each: true }) labels?: string[];
}

export class OutcomeRule {
  @IsOptional() @IsString() name?: string;
  @ValidateNested() @Type(() => OutcomeMatch) match: OutcomeMatch = new OutcomeMatch();
  /** Liquid: an internal note written with the change (optional). */
  @IsOptional() @IsString() note?: string;
  @IsOptional() @ValidateNested() @Type(() => ZendeskOutcome) zendesk?: ZendeskOutcome;
  @IsOptional() @ValidateNested() @Type(() => ServiceNowOutcome) servicenow?: ServiceNowOutcome;
  @IsOptional() @ValidateNested() @Type(() => JiraOutcome) jira?: JiraOutcome;
}

/** When a session ends: the first rule that matches moves the ticket on; none matching changes nothing. */
export class OutcomeRules {
  @IsArray() @ValidateNested({ each: true }) @Type(() => OutcomeRule) rules: OutcomeRule[] = [];
  /** A key whose `expires` passed with no session: its optional note and change (`match` is not read). */
  @IsOptional() @ValidateNested() @Type(() => OutcomeRule) expiredKey?: OutcomeRule;
}

/** The rules file (RSB_RULES_FILE). Every section is optional; the defaults make a working setup. */
export class Rules {
  @ValidateNested() @Type(() => RoutingRules) routing = new RoutingRules();
  @ValidateNested() @Type(() => SessionKeyRules) sessionKey = new SessionKeyRules();
  /** session.custom code name → Liquid value from the ticket. */
  @IsObject() fields: Record<string, string> = {};
  @ValidateNested() @Type(() => WriteBackRules) writeBack = new WriteBackRules();
  @ValidateNested() @Type(() => TriggerRules) triggers = new TriggerRules();
  @ValidateNested() @Type(() => SessionEndRules) sessionEnd = new SessionEndRules();
  @ValidateNested() @Type(() => OutcomeRules) outcomes = new OutcomeRules();
}

export const liquid = new Liquid({ strictFilters: true, ownPropertyOnly: true });
/** For HTML templates: every output is escaped, so a chat line cannot inject markup into a ticket. */
export const liquidHtml = new Liquid({ strictFilters: true, ownPropertyOnly: true, outputEscape: 'escape' });

function flatten(errors: ValidationError[], path = ''): { path: string; message: string }[] {
  return errors.flatMap((e) => {
    const here = path ? `${path}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ path: here, message }));
    return [...own, ...flatten(e.children ?? [], here)];
  });
}

/** Validates the parsed YAML and every Liquid template in it; returns the rules or the problems. */
export function validateRules(raw: Record<string, unknown>): { rules: Rules; problems: { path: string; message: string }[] } {
  const rules = plainToInstance(Rules, raw, { exposeDefaultValues: true });
  const problems = flatten(validateSync(rules, { forbidUnknownValues: false }));
  const known = new Set(Object.keys(new Rules()));
  for (const key of Object.keys(raw))
    if (!known.has(key)) problems.push({ path: key, message: `an unknown section (known: ${[...known].join(', ')})` });
  for (const [code, value] of Object.entries(rules.fields ?? {})) {
    if (!/^[A-Za-z0-9_]+$/.test(code)) problems.push({ path: `fields.${code}`, message: 'a custom field code name (letters, digits, _)' });
    if (typeof value !== 'string') problems.push({ path: `fields.${code}`, message: 'a Liquid template string' });
  }
  for (const section of ['zendeskTags', 'jiraLabels'] as const) {
    for (const [tag, action] of Object.entries(rules.triggers?.[section] ?? {})) {
      if (!(TICKET_ACTIONS as readonly string[]).includes(action))
        problems.push({ path: `triggers.${section}.${tag}`, message: `one of ${TICKET_ACTIONS.join(', ')}` });
    }
  }
  const templates: [string, unknown][] = [
    ['sessionKey.externalKey', rules.sessionKey?.externalKey],
    ['writeBack.publicReply', rules.writeBack?.publicReply],
    ['writeBack.internalNote', rules.writeBack?.internalNote],
    ['writeBack.failureNote', rules.writeBack?.failureNote],
    ...Object.entries(rules.sessionEnd ?? {}).map(([k, v]) => [`sessionEnd.${k}`, v] as [string, unknown]),
    ...Object.entries(rules.fields ?? {}).map(([k, v]) => [`fields.${k}`, v] as [string, unknown]),
    ...Object.entries(rules.writeBack?.zendesk?.customFields ?? {}).map(
      ([k, v]) => [`writeBack.zendesk.customFields.${k}`, v] as [string, unknown],
    ),
    ...Object.entries(rules.writeBack?.servicenow?.fields ?? {}).map(
      ([k, v]) => [`writeBack.servicenow.fields.${k}`, v] as [string, unknown],
    ),
    ...Object.entries(rules.writeBack?.jira?.fields ?? {}).flatMap(([k, v]) => fieldTemplates(v, `writeBack.jira.fields.${k}`)),
    ...[
      ...(rules.outcomes?.rules ?? []).entries(),
      ...(rules.outcomes?.expiredKey ? [['expiredKey', rules.outcomes.expiredKey] as const] : []),
    ].flatMap(([i, r]) =>
      [
        ['note', r.note],
        ['servicenow.close_notes', r.servicenow?.close_notes],
        ...Object.entries({ ...r.zendesk?.customFields }).map(([k, v]) => [`zendesk.customFields.${k}`, v]),
        ...Object.entries({ ...r.servicenow?.fields }).map(([k, v]) => [`servicenow.fields.${k}`, v]),
        ...Object.entries({ ...r.jira?.fields }).flatMap(([k, v]) => fieldTemplates(v, `jira.fields.${k}`)),
      ].map(([k, v]) => [`outcomes.${typeof i === 'number' ? `rules.${i}` : i}.${k}`, v] as [string, unknown]),
    ),
  ];
  for (const [path, template] of templates) {
    if (typeof template !== 'string') continue;
    try {
      liquid.parse(template);
    } catch (error) {
      problems.push({ path, message: `valid Liquid (${(error as Error).message.split('\n')[0]})` });
    }
  }
  return { rules, problems };
}
