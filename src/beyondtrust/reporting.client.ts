import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { BeyondTrustApiError } from './beyondtrust.errors';
import {
  ArchiveListing,
  ExitSurvey,
  LicenseUsageReport,
  Participant,
  PresentationSessionReport,
  RecordingLink,
  SessionEvent,
  SessionListingEntry,
  SessionCustomer,
  SessionRepresentative,
  SessionSummary,
  SupportSessionReport,
  SurveyAnswer,
  TeamActivityReport,
  TimeWindow,
} from './reporting.types';
import { BeyondTrustTransport, Params, RecordingStream } from './transport';
import { attr, bool, child, int, list, optText, text_, timestamp, XmlNode } from './xml';

function windowParams(window: TimeWindow, operation: string): Params {
  if (!Number.isInteger(window.duration) || window.duration < 0)
    throw new BeyondTrustApiError('duration must be 0 or a positive whole number', operation);
  const date = /^\d{4}-\d{2}-\d{2}$/;
  if ('startDate' in window) {
    if (!date.test(window.startDate)) throw new BeyondTrustApiError('start_date must be YYYY-MM-DD', operation);
    return { start_date: window.startDate, duration: window.duration };
  }
  if ('endDate' in window) {
    if (!date.test(window.endDate)) throw new BeyondTrustApiError('end_date must be YYYY-MM-DD', operation);
    return { end_date: window.endDate, duration: window.duration };
  }
  if ('startTime' in window) return { start_time: Math.floor(window.startTime), duration: window.duration };
  return { end_time: Math.floor(window.endTime), duration: window.duration };
}

const participant = (node: unknown): Participant | undefined =>
  node === undefined ? undefined : { gsnumber: attr(node, 'gsnumber'), type: attr(node, 'type'), name: text_(node) };

const named = (node: unknown): { id?: string; name: string } | undefined =>
  node === undefined ? undefined : { id: attr(node, 'id'), name: text_(node) };

function decodeBody(event: XmlNode): string | undefined {
  if (event.encoded_body !== undefined) return Buffer.from(text_(event.encoded_body), 'base64').toString('utf8');
  return optText(event.body);
}

function mapEvent(e: XmlNode): SessionEvent {
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(e))
    if (typeof v === 'string' && k !== 'timestamp' && k !== 'event_type' && !(k in EVENT_CHILDREN)) attributes[k] = v;
  const data: Record<string, string> = {};
  for (const v of list(child(e, 'data').value)) {
    const name = attr(v, 'name');
    if (name) data[name] = attr(v, 'value') ?? text_(v);
  }
  const sys = e.system_information;
  return {
    timestamp: int(attr(e, 'timestamp')) ?? 0,
    type: attr(e, 'event_type') ?? '',
    performedBy: participant(e.performed_by),
    destination: participant(e.destination),
    body: decodeBody(e),
    filename: optText(e.filename),
    filesize: int(e.filesize),
    files: list(child(e, 'files').file).map((f) => ({ name: attr(f, 'name') ?? text_(f), size: int(attr(f, 'size')) })),
    data,
    systemInformation:
      sys === undefined
        ? undefined
        : list((sys as XmlNode).category).map((c) => ({
            name: attr(c, 'name') ?? text_(c.name),
            fields: list(child(c, 'description').field).map(text_),
            rows: list(child(c, 'data').row).map((r) => list(r.field).map(text_)),
          })),
    attributes,
  };
}

const EVENT_CHILDREN = {
  performed_by: 1,
  destination: 1,
  body: 1,
  encoded_body: 1,
  filename: 1,
  filesize: 1,
  files: 1,
  data: 1,
  system_information: 1,
};

function mapQuestions(node: unknown): SurveyAnswer[] {
  return list(child(node, 'question_list').question).map((q) => ({
    id: attr(q, 'id') ?? '',
    name: text_(q.name),
    type: text_(q.type),
    label: text_(q.label),
    reportHeader: optText(q.report_header),
    answers: list(child(q, 'answer_list').answer).map(text_),
  }));
}

const recordings = (node: unknown): RecordingLink[] =>
  list(node).map((r, i) => {
    const instance = int(attr(r, 'instance')) ?? i;
    return { instance, downloadInstance: instance, downloadUrl: text_(r.download_url), viewUrl: text_(r.view_url) };
  });

/**
 * Command shell recordings. The guide contradicts itself: the SupportSession element table says the
 * `instance` attribute starts with 0, while the CommandShellRecording section says the report starts at
 * 1 ("instance 1 in a SupportSession report should be referenced as instance 0 in the API"). Both agree
 * that the download counts from 0. We read the numbering from the data: a list that names an instance 0
 * counts from 0 and is downloaded as named; a list whose lowest instance is 1 counts from 1 and each is
 * downloaded one lower. Either way every download is the recording the report listed, never a neighbour
 * and never an instance outside the list.
 */
const commandShellRecordings = (node: unknown): RecordingLink[] => {
  const links = recordings(node);
  const fromZero = links.length === 0 || Math.min(...links.map((l) => l.instance)) === 0;
  return links.map((l) => ({ ...l, downloadInstance: fromZero ? l.instance : l.instance - 1 }));
};

const mapRepresentative = (r: XmlNode): SessionRepresentative => ({
  id: attr(r, 'id') ?? '',
  gsnumber: attr(r, 'gsnumber'),
  username: text_(r.username),
  publicDisplayName: text_(r.public_display_name),
  privateDisplayName: text_(r.private_display_name ?? r.display_name),
  sessionOwner: bool(r.session_owner),
  primaryRep: bool(r.primary_rep),
  secondsInvolved: int(r.seconds_involved),
  displayNumber: optText(r.display_number),
  invited: bool(r.invited),
  publicIp: optText(r.public_ip),
  privateIp: optText(r.private_ip),
  hostname: optText(r.hostname),
  os: optText(r.os),
});

const mapCustomer = (c: XmlNode): SessionCustomer => ({
  gsnumber: attr(c, 'gsnumber'),
  username: text_(c.username),
  publicIp: optText(c.public_ip),
  privateIp: optText(c.private_ip),
  hostname: optText(c.hostname),
  os: optText(c.os),
  primary: bool(c.primary_cust),
  info: Object.fromEntries(Object.entries(child(c, 'info')).map(([k, v]) => [k, text_(v)])),
});

const mapTeam = (t: XmlNode) => ({ id: attr(t, 'id') ?? '', name: text_(t), primary: attr(t, 'primary_team') === '1' });

export function mapPresentationSession(s: XmlNode): PresentationSessionReport {
  return {
    lsid: attr(s, 'lsid') ?? '',
    lseq: int(s.lseq),
    startTime: timestamp(s.start_time),
    endTime: text_(s.end_time) || attr(s.end_time, 'timestamp') ? timestamp(s.end_time) : undefined,
    duration: optText(s.duration),
    chatViewUrl: optText(s.session_chat_view_url),
    chatDownloadUrl: optText(s.session_chat_download_url),
    recordingViewUrl: optText(s.session_recording_view_url),
    recordingDownloadUrl: optText(s.session_recording_download_url),
    attendees: list(child(s, 'attendee_list').attendee).map((a) => ({
      gsnumber: attr(a, 'gsnumber'),
      username: text_(a.username),
      publicIp: optText(a.public_ip),
    })),
    presenters: list(child(s, 'rep_list').representative).map(mapRepresentative),
    events: list(child(s, 'session_details').event).map(mapEvent),
  };
}

export function mapSupportSession(s: XmlNode): SupportSessionReport {
  return {
    lsid: attr(s, 'lsid') ?? '',
    sessionType: text_(s.session_type),
    lseq: int(s.lseq),
    startTime: timestamp(s.start_time),
    endTime: text_(s.end_time) || attr(s.end_time, 'timestamp') ? timestamp(s.end_time) : undefined,
    duration: optText(s.duration),
    publicSite: named(s.public_site),
    jumpoint: named(s.jumpoint),
    externalKey: optText(s.external_key) || undefined,
    customAttributes: list(child(s, 'custom_attributes').custom_attribute).map((a) => ({
      codeName: attr(a, 'code_name') ?? '',
      displayName: attr(a, 'display_name') ?? '',
      value: text_(a),
    })),
    chatViewUrl: optText(s.session_chat_view_url),
    chatDownloadUrl: optText(s.session_chat_download_url),
    recordingViewUrl: optText(s.session_recording_view_url),
    recordingDownloadUrl: optText(s.session_recording_download_url),
    showMyScreenRecordings: recordings(child(s, 'show_my_screen_recordings').show_my_screen_recording),
    commandShellRecordings: commandShellRecordings(child(s, 'command_shell_recordings').command_shell_recording),
    fileTransferCount: int(s.file_transfer_count) ?? 0,
    fileMoveCount: int(s.file_move_count) ?? 0,
    fileDeleteCount: int(s.file_delete_count) ?? 0,
    primaryCustomer: participant(s.primary_customer),
    primaryRep: s.primary_rep === undefined ? undefined : { ...participant(s.primary_rep)!, id: attr(s.primary_rep, 'id') },
    primaryTeam: named(s.primary_team),
    customers: list(child(s, 'customer_list').customer).map(mapCustomer),
    reps: list(child(s, 'rep_list').representative).map(mapRepresentative),
    teams: list(child(s, 'team_list').team).map(mapTeam),
    customerSurveys: list(child(s, 'cust_survey_list').cust_exit_survey).map((x) => ({ answers: mapQuestions(x) })),
    repSurveys: list(child(s, 'rep_survey_list').rep_exit_survey).map((x) => ({ answers: mapQuestions(x) })),
    events: list(child(s, 'session_details').event).map(mapEvent),
  };
}

/** Typed reports and streamed recordings of the Reporting API (guide: "Reporting API"). */
export class BeyondTrustReportingClient {
  constructor(private readonly transport: BeyondTrustTransport) {}

  private async report(name: string, params: Params, expectedRoot: string): Promise<XmlNode> {
    const { root, node } = await this.transport.xml('reporting', { generate_report: name, ...params }, name, true);
    if (root !== expectedRoot) throw new BeyondTrustApiError(`unexpected answer <${root}> to ${name}`, name);
    return node;
  }

  /** Full reports of sessions, by lsid, by several lsids, or by time window (optionally limited). */
  async supportSessions(
    select: { lsid: string } | { lsids: string[] } | (TimeWindow & { limit?: string }),
  ): Promise<SupportSessionReport[]> {
    const name = 'SupportSession';
    let params: Params;
    if ('lsid' in select) params = { lsid: select.lsid };
    else if ('lsids' in select) params = { lsids: select.lsids.join(',') };
    else params = { ...windowParams(select, name), limit: select.limit };
    const node = await this.report(name, params, 'session_list');
    return list(node.session).map(mapSupportSession);
  }

  /** One session's report, or undefined when the appliance knows no such lsid. */
  async supportSession(lsid: string): Promise<SupportSessionReport | undefined> {
    return (await this.supportSessions({ lsid }))[0];
  }

  async supportSessionListing(window: TimeWindow): Promise<SessionListingEntry[]> {
    const name = 'SupportSessionListing';
    const node = await this.report(name, windowParams(window, name), 'session_summary_list');
    return list(node.session_summary).map((s) => ({
      lsid: attr(s, 'lsid') ?? '',
      lseq: int(s.lseq ?? attr(s, 'lseq')),
      hasRecording: attr(s, 'has_recording') === '1',
      externalKey: attr(s, 'external_key') || undefined,
    }));
  }

  async supportSessionSummary(window: TimeWindow, reportType: 'rep' | 'team' | 'site'): Promise<SessionSummary[]> {
    const name = 'SupportSessionSummary';
    const node = await this.report(name, { ...windowParams(window, name), report_type: reportType }, 'summary_list');
    return list(node.summary).map((s) => ({
      id: attr(s, 'id') ?? '',
      type: attr(s, 'type') ?? '',
      displayName: text_(s.display_name),
      totalSessions: int(s.total_sessions) ?? 0,
      avgSessionsPerWeekday: int(s.avg_sessions_per_weekday),
      avgDuration: optText(s.avg_duration),
    }));
  }

  /**
   * Exit surveys of one session, of several, or of a time window. The guide requires `report_type` with
   * `lsid`/`lsids` too (rep: by the representative who last owned the session; team: by team), so it is
   * always sent.
   */
  async exitSurveys(
    who: 'customer' | 'rep',
    select: ({ lsid: string } | { lsids: string[] } | (TimeWindow & { id?: string })) & { reportType?: 'rep' | 'team'; siteId?: number },
  ): Promise<ExitSurvey[]> {
    const name = who === 'customer' ? 'SupportCustExitSurvey' : 'SupportRepExitSurvey';
    const reportType = select.reportType ?? 'rep';
    const params: Params =
      'lsid' in select
        ? { lsid: select.lsid, report_type: reportType }
        : 'lsids' in select
          ? { lsids: select.lsids.join(','), report_type: reportType }
          : { ...windowParams(select, name), report_type: reportType, id: select.id ?? 'all' };
    if (select.siteId !== undefined) params.site_id = select.siteId;
    const node = await this.report(name, params, 'exit_survey_list');
    return list(node.exit_survey).map((x) => ({
      lsid: attr(x, 'lsid') ?? '',
      ts: int(attr(x, 'ts')),
      sessionType: optText(x.session_type),
      publicSite: named(x.public_site),
      submittedBy: { type: attr(x.submitted_by, 'type'), name: text_(x.submitted_by) },
      primaryCustomer: optText(x.primary_customer),
      primaryRep: named(x.primary_rep),
      primaryTeam: named(x.primary_team),
      customers: list(child(x, 'customer_list').customer).map(mapCustomer),
      reps: list(child(x, 'rep_list').representative).map(mapRepresentative),
      teams: list(child(x, 'team_list').team).map(mapTeam),
      repResolved: x.rep_resolved === undefined ? undefined : bool(x.rep_resolved),
      questions: mapQuestions(x),
    }));
  }

  /** Activity within support teams (all teams, or one by `teamId`), with the window the appliance applied. */
  async supportTeam(window: TimeWindow, teamId?: number | string): Promise<TeamActivityReport> {
    const name = 'SupportTeam';
    const node = await this.report(name, { ...windowParams(window, name), team_id: teamId }, 'team_activity_list');
    return {
      startTime: timestamp(node.start_time),
      endTime: timestamp(node.end_time),
      teams: list(node.team_activity).map((t) => ({
        id: attr(t, 'id') ?? '',
        name: attr(t, 'name') ?? '',
        loggedInRepresentatives: list(child(t, 'logged_in_representatives').representative).map((r) => ({
          id: attr(r, 'id') ?? '',
          gsnumber: attr(r, 'gsnumber'),
          publicDisplayName: text_(r.public_display_name),
          privateDisplayName: text_(r.private_display_name ?? r.display_name),
          publicIp: optText(r.public_ip),
          privateIp: optText(r.private_ip),
        })),
        events: list(child(t, 'events').event).map((e) => ({
          ...mapEvent(e),
          destinations: list(child(e, 'destinations').destination).map((d) => participant(d)!),
        })),
      })),
    };
  }

  async presentationSessions(select: { lsid: string } | { lsids: string[] } | TimeWindow): Promise<PresentationSessionReport[]> {
    const name = 'PresentationSession';
    const params: Params =
      'lsid' in select ? { lsid: select.lsid } : 'lsids' in select ? { lsids: select.lsids.join(',') } : windowParams(select, name);
    const node = await this.report(name, params, 'session_list');
    return list(node.session).map(mapPresentationSession);
  }

  async presentationSessionListing(window: TimeWindow): Promise<{ lsid: string; hasRecording: boolean }[]> {
    const name = 'PresentationSessionListing';
    const node = await this.report(name, windowParams(window, name), 'presentation_summary_list');
    return list(node.presentation_summary).map((p) => ({ lsid: attr(p, 'lsid') ?? '', hasRecording: attr(p, 'has_recording') === '1' }));
  }

  /** Peak license usage (logged when 90% of licenses are in use), grouped by hour, day or month. */
  async licenseUsage(
    window: { startDate: string; duration: number } | { startTime: number; duration: number },
    groupBy: 'hour' | 'day' | 'month',
  ): Promise<LicenseUsageReport> {
    const name = 'LicenseUsage';
    const node = await this.report(name, { ...windowParams(window, name), group_by: groupBy }, 'license_usage');
    return {
      startTime: timestamp(node.start_time),
      endTime: timestamp(node.end_time),
      groupBy: optText(node.group_by),
      intervals: list(child(node, 'license_time_intervals').license_time_interval).map((i) => ({
        timestamp: int(attr(i, 'timestamp')),
        datetime: attr(i, 'datetime'),
        counts: list(i.license_count).map((c) => ({
          licenseType: attr(c, 'license_type') ?? '',
          reason: attr(c, 'reason'),
          count: int(c) ?? 0,
        })),
      })),
    };
  }

  /** The state and event archives available for a day (index them with `archive`). */
  async archiveListing(date: string): Promise<ArchiveListing> {
    const name = 'ArchiveListing';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new BeyondTrustApiError('date must be YYYY-MM-DD', name);
    const node = await this.report(name, { date }, 'archives');
    return {
      state: list(node.state_archive).map((a) => ({
        index: int(a.index) ?? 0,
        time: timestamp(a.time),
        eventArchiveIndex: int(a.event_archive_index),
      })),
      event: list(node.event_archive).map((a) => ({ index: int(a.index) ?? 0, time: timestamp(a.time), endTime: timestamp(a.end_time) })),
    };
  }

  // --- streams: recordings and archives are never held in memory ---------------------------------

  supportSessionRecording(lsid: string): Promise<RecordingStream> {
    return this.transport.stream({ generate_report: 'SupportSessionRecording', lsid }, 'SupportSessionRecording');
  }

  /** `instance` counts from 0 (a report's RecordingLink.downloadInstance). */
  showMyScreenRecording(lsid: string, instance: number): Promise<RecordingStream> {
    return this.transport.stream({ generate_report: 'ShowMyScreenRecording', lsid, instance }, 'ShowMyScreenRecording');
  }

  /** `instance` counts from 0 (a report's RecordingLink.downloadInstance). */
  commandShellRecording(lsid: string, instance: number): Promise<RecordingStream> {
    return this.transport.stream({ generate_report: 'CommandShellRecording', lsid, instance }, 'CommandShellRecording');
  }

  presentationSessionRecording(lsid: string): Promise<RecordingStream> {
    return this.transport.stream({ generate_report: 'PresentationSessionRecording', lsid }, 'PresentationSessionRecording');
  }

  endpointLicenseUsage(params: Params = {}): Promise<RecordingStream> {
    return this.transport.stream({ generate_report: 'EndpointLicenseUsage', ...params }, 'EndpointLicenseUsage');
  }

  /** The system state snapshot of a state archive: one JSON object of tables (null when empty). */
  async archiveState(date: string, index: number): Promise<Record<string, unknown>> {
    const { stream } = await this.archive('state', date, index);
    let text = '';
    for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** The events of an event archive, oldest first, one JSON object a line, read as they are gunzipped. */
  async *archiveEvents(date: string, index: number): AsyncGenerator<Record<string, unknown>> {
    const { stream } = await this.archive('event', date, index);
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    for await (const line of lines) if (line.trim()) yield JSON.parse(line) as Record<string, unknown>;
  }

  /** A gzipped state or event archive, gunzipped on the fly: JSON (state) or JSON lines (events). */
  async archive(type: 'state' | 'event', date: string, index: number): Promise<RecordingStream> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new BeyondTrustApiError('date must be YYYY-MM-DD', 'Archive');
    const download = await this.transport.stream({ generate_report: 'Archive', type, date, index }, 'Archive');
    return { ...download, contentLength: undefined, stream: download.stream.pipe(createGunzip()) };
  }
}
