import type { Timestamp } from './xml';

/** `general`, `team:<id>`, `rep:<id>`, `rep_username:<name>` or `issue:<code_name>`. */
export type QueueId = string;

export interface LoggedInRep {
  id: string;
  publicDisplayName: string;
  privateDisplayName: string;
  type: string;
  directLink: string;
  loggedInSince?: Timestamp;
  presentationCount: number;
  supportSessionCount: number;
  showingOnRepList: boolean;
}

export interface SupportTeam {
  id: string;
  name: string;
  supportSessionCount: number;
  issues: { id: string; title: string }[];
  members?: { id: string; username: string; publicDisplayName: string; privateDisplayName: string }[];
}

export interface GenerateSessionKeyParams {
  queueId: QueueId;
  externalKey?: string;
  /** Custom fields by code name (configured in /login > Management > API Configuration). */
  custom?: Record<string, string>;
  /** 1 high, 2 medium, 3 low. */
  priority?: 1 | 2 | 3;
  /** Code names of skills. */
  skills?: string[];
  /** Seconds the key stays valid. */
  ttl?: number;
  urlHostname?: string;
}

export interface SessionKey {
  type: string;
  ttl: number;
  expires?: Timestamp;
  queue: { type: string; available: boolean };
  queueId: string;
  externalKey?: string;
  shortKey: string;
  keyUrl: string;
  mailSubject?: string;
  mailBody?: string;
}

export type ChatImpersonation = 'customer' | { repId: number | string } | { repUsername: string };

export type SendChatMessageParams = {
  body: string;
  /** Appears to come from this member; omitted: a system message. */
  impersonate?: ChatImpersonation;
  /** When the message was originally sent (UNIX seconds, in the appliance's past). */
  timestamp?: number;
} & ({ lsid: string } | { teamId: number | string; toRep?: number | string; toRepUsername?: string });

export interface VirtualCustomerParams {
  shortKey: string;
  name: string;
  ipAddress: string;
  operatingSystem: string;
  computerName: string;
  /** `download_url` opens click-to-chat instead of the full client. */
  chatUrl?: boolean;
}

export type SessionMember = { repId: number | string } | { repUsername: string } | { customer: true };

export interface SessionAttribute {
  codeName: string;
  displayName: string;
  value: string;
}

export interface Appliance {
  id: string;
  name: string;
  publicHostname: string;
  clusterRole: string;
  failoverRole: string;
  acceptingConnections: boolean;
  timezoneOffset?: number;
}

export interface ConnectedClientList {
  summary: { applianceId: string; counts: Record<string, number> }[];
  clients: { type: string; id: string }[];
}

export interface ConnectedClient {
  /** representative, support_customer, presentation_attendee or push_agent. */
  kind: string;
  id: string;
  hostname?: string;
  platform?: string;
  /** The short platform code of the `<platform>` element's id attribute (winNT-64, ...). */
  platformId?: string;
  /** Sent only when include_connections was asked for. */
  connectedSince?: Timestamp;
  /** A representative's sessions: the `<lsid>` of each `<support_session_ids>` entry. */
  supportSessionIds?: string[];
  /** With include_connections: the client's connections to each appliance of a cluster. */
  connections?: { applianceId: string; purpose: string; receiveTrafficNode: boolean; connectedSince?: Timestamp; privateIp?: string }[];
  /** With include_connections: the last (up to 20) connection events. */
  eventLog?: { at?: Timestamp; text: string }[];
  /** Every other element, as text, for the fields specific to a kind (user_id, username, routing_busy, lsid, ...). */
  fields: Record<string, string>;
}

export interface HealthCheck {
  appliance: string;
  applianceId?: string;
  version: string;
  success: boolean;
  errorMessage?: string;
  failoverRole: string;
  enabledSharedIps: string[];
  lastDataSyncTime?: Timestamp;
  lastDataSyncStatus?: string;
}

export interface ApiInfo {
  apiVersion: string;
  companyName?: string;
  timestamp?: string;
  /** perm_command → full_access | read_only | deny; perm_reporting_support → 1 | 0; ... */
  permissions: Record<string, string>;
}

export type JumpShortcutType =
  'local_jump' | 'remote_jump' | 'remote_vnc' | 'local_vnc' | 'remote_rdp' | 'local_rdp' | 'shell_jump' | 'vpro';
