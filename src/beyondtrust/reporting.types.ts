import type { Timestamp } from './xml';

/** The guide's four ways to select a time window; duration is days for dates, seconds for times. */
export type TimeWindow =
  | { startDate: string; duration: number }
  | { startTime: number; duration: number }
  | { endDate: string; duration: number }
  | { endTime: number; duration: number };

export interface Participant {
  gsnumber?: string;
  /** system, customer or representative. */
  type?: string;
  name: string;
}

export interface SessionEvent {
  /** UNIX seconds. */
  timestamp: number;
  /** As the guide names them: "Chat Message", "File Upload", "Session Note Added", ... */
  type: string;
  performedBy?: Participant;
  destination?: Participant;
  /** Chat text; `<encoded_body>` is decoded into it. */
  body?: string;
  filename?: string;
  filesize?: number;
  files: { name: string; size?: number }[];
  /** `<data><value name value/></data>`. */
  data: Record<string, string>;
  systemInformation?: { name: string; fields: string[]; rows: string[][] }[];
  /**
   * Every attribute of `<event>` besides timestamp and event_type, uninterpreted: the guide says a line sent
   * through the Command API carries "a special attribute" naming the API account, but never names it.
   */
  attributes: Record<string, string>;
}

export interface SessionRepresentative {
  id: string;
  gsnumber?: string;
  username: string;
  publicDisplayName: string;
  privateDisplayName: string;
  sessionOwner: boolean;
  primaryRep: boolean;
  secondsInvolved?: number;
  /** The display number at the time of the session. */
  displayNumber?: string;
  /** `<invited>1</invited>`: present only for an invited user. */
  invited: boolean;
  publicIp?: string;
  privateIp?: string;
  hostname?: string;
  os?: string;
}

export interface SessionCustomer {
  gsnumber?: string;
  username: string;
  publicIp?: string;
  privateIp?: string;
  hostname?: string;
  os?: string;
  primary: boolean;
  info: Record<string, string>;
}

export interface RecordingLink {
  /** As the SupportSession report numbers it. */
  instance: number;
  /** The `instance` the download (ShowMyScreenRecording, CommandShellRecording) takes: from 0. */
  downloadInstance: number;
  downloadUrl: string;
  viewUrl: string;
}

export interface SurveyAnswer {
  id: string;
  name: string;
  type: string;
  label: string;
  reportHeader?: string;
  answers: string[];
}

export interface SupportSessionReport {
  lsid: string;
  sessionType: string;
  lseq?: number;
  startTime?: Timestamp;
  /** Absent while the session is in progress or when it closed abnormally. */
  endTime?: Timestamp;
  duration?: string;
  publicSite?: { id?: string; name: string };
  jumpoint?: { id?: string; name: string };
  externalKey?: string;
  customAttributes: { codeName: string; displayName: string; value: string }[];
  chatViewUrl?: string;
  chatDownloadUrl?: string;
  recordingViewUrl?: string;
  recordingDownloadUrl?: string;
  showMyScreenRecordings: RecordingLink[];
  commandShellRecordings: RecordingLink[];
  fileTransferCount: number;
  fileMoveCount: number;
  fileDeleteCount: number;
  primaryCustomer?: Participant;
  primaryRep?: Participant & { id?: string };
  primaryTeam?: { id?: string; name: string };
  customers: SessionCustomer[];
  reps: SessionRepresentative[];
  teams: { id: string; name: string; primary: boolean }[];
  customerSurveys: { answers: SurveyAnswer[] }[];
  repSurveys: { answers: SurveyAnswer[] }[];
  events: SessionEvent[];
}

export interface SessionListingEntry {
  lsid: string;
  lseq?: number;
  hasRecording: boolean;
  externalKey?: string;
}

export interface SessionSummary {
  id: string;
  type: string;
  displayName: string;
  totalSessions: number;
  avgSessionsPerWeekday?: number;
  avgDuration?: string;
}

export interface ExitSurvey {
  lsid: string;
  /** The start of the session the survey belongs to (UNIX seconds). */
  ts?: number;
  sessionType?: string;
  publicSite?: { id?: string; name: string };
  /** `type` is cust or rep. */
  submittedBy: { type?: string; name: string };
  primaryCustomer?: string;
  primaryRep?: { id?: string; name: string };
  primaryTeam?: { id?: string; name: string };
  customers: SessionCustomer[];
  reps: SessionRepresentative[];
  teams: { id: string; name: string; primary: boolean }[];
  /** Kept by the appliance for backwards compatibility; always 0 since API 1.0.0. */
  repResolved?: boolean;
  questions: SurveyAnswer[];
}

export interface TeamActivity {
  id: string;
  name: string;
  loggedInRepresentatives: {
    id: string;
    gsnumber?: string;
    publicDisplayName: string;
    privateDisplayName: string;
    publicIp?: string;
    privateIp?: string;
  }[];
  events: (SessionEvent & { destinations: Participant[] })[];
}

/** SupportTeam: the activity of each team, and the window as the appliance read it. */
export interface TeamActivityReport {
  startTime?: Timestamp;
  endTime?: Timestamp;
  teams: TeamActivity[];
}

export interface PresentationSessionReport {
  lsid: string;
  lseq?: number;
  startTime?: Timestamp;
  endTime?: Timestamp;
  duration?: string;
  chatViewUrl?: string;
  chatDownloadUrl?: string;
  recordingViewUrl?: string;
  recordingDownloadUrl?: string;
  attendees: { gsnumber?: string; username: string; publicIp?: string }[];
  presenters: SessionRepresentative[];
  events: SessionEvent[];
}

export interface LicenseUsageInterval {
  timestamp?: number;
  datetime?: string;
  counts: { licenseType: string; reason?: string; count: number }[];
}

/** LicenseUsage: peak usage per interval, with the window and grouping as the appliance read them. */
export interface LicenseUsageReport {
  startTime?: Timestamp;
  endTime?: Timestamp;
  groupBy?: string;
  intervals: LicenseUsageInterval[];
}

export interface ArchiveListing {
  state: { index: number; time?: Timestamp; eventArchiveIndex?: number }[];
  event: { index: number; time?: Timestamp; endTime?: Timestamp }[];
}
