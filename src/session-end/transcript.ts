import type { SessionEvent, SupportSessionReport, SurveyAnswer } from '../beyondtrust/reporting.types';
import type { RecordingKind } from '../jobs/queues';

/** One recording of a session as the templates and the transfer jobs see it. */
export interface RecordingRef {
  kind: RecordingKind;
  /** As the report numbers it: keys the artifact and the job. */
  instance: number;
  /** As the download takes it, from 0. */
  downloadInstance: number;
  label: string;
  viewUrl?: string;
  downloadUrl?: string;
  artifact: string;
}

const time = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const clock = (seconds: number) => new Date(seconds * 1000).toISOString().slice(11, 19);

const answers = (list: SurveyAnswer[]) =>
  list.map((a) => ({ question: a.label || a.reportHeader || a.name, answer: a.answers.join(', ') }));

function describe(e: SessionEvent): string {
  if (e.body) return e.body;
  const files = e.files.length ? e.files.map((f) => f.name).join(', ') : e.filename;
  if (files) return files;
  return Object.entries(e.data)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/** Every recording the report lists, with the artifact name that keys its transfer. */
export function recordingsOf(report: SupportSessionReport): RecordingRef[] {
  const refs: RecordingRef[] = [];
  if (report.recordingDownloadUrl || report.recordingViewUrl)
    refs.push({
      kind: 'session',
      instance: 0,
      downloadInstance: 0,
      label: 'session recording',
      viewUrl: report.recordingViewUrl,
      downloadUrl: report.recordingDownloadUrl,
      artifact: 'recording:session:0',
    });
  for (const r of report.showMyScreenRecordings)
    refs.push({
      kind: 'showMyScreen',
      instance: r.instance,
      downloadInstance: r.downloadInstance,
      label: `Show My Screen recording ${r.downloadInstance + 1}`,
      viewUrl: r.viewUrl,
      downloadUrl: r.downloadUrl,
      artifact: `recording:showMyScreen:${r.instance}`,
    });
  for (const r of report.commandShellRecordings)
    refs.push({
      kind: 'commandShell',
      instance: r.instance,
      downloadInstance: r.downloadInstance,
      label: `command shell recording ${r.downloadInstance + 1}`,
      viewUrl: r.viewUrl,
      downloadUrl: r.downloadUrl,
      artifact: `recording:commandShell:${r.instance}`,
    });
  return refs;
}

/**
 * The session as the templates see it: plain values only (the Liquid engine reads own properties), times
 * in UTC, chat lines with their speaker and whether the system (or an API account) said them.
 */
export function sessionView(report: SupportSessionReport) {
  const customer = report.customers.find((c) => c.primary) ?? report.customers[0];
  const chat = report.events
    .filter((e) => e.type === 'Chat Message')
    .map((e) => ({
      at: time(e.timestamp),
      time: clock(e.timestamp),
      speaker: e.performedBy?.name ?? 'unknown',
      role: e.performedBy?.type ?? 'system',
      text: e.body ?? '',
      system: e.performedBy?.type === 'system' || e.performedBy?.type === undefined,
    }));
  const files = report.events
    .filter((e) => /^File (Upload|Download)( Failed)?$/.test(e.type))
    .flatMap((e) =>
      (e.files.length ? e.files : [{ name: e.filename ?? '', size: e.filesize }]).map((f) => ({
        at: time(e.timestamp),
        time: clock(e.timestamp),
        direction: e.type.toLowerCase().replace('file ', ''),
        name: f.name,
        size: f.size,
        by: e.performedBy?.name,
      })),
    );
  const notes = report.events
    .filter((e) => e.type === 'Session Note Added')
    .map((e) => ({
      at: time(e.timestamp),
      time: clock(e.timestamp),
      by: e.performedBy?.name ?? '',
      text: e.body ?? e.data.note ?? e.data.body ?? Object.values(e.data).join(' '),
    }));
  const systemInfo = report.events
    .flatMap((e) => e.systemInformation ?? [])
    .map((c) => ({
      category: c.name,
      summary: c.rows
        .slice(0, 3)
        .map((row) => row.map((v, i) => (c.fields[i] ? `${c.fields[i]}: ${v}` : v)).join(', '))
        .join(' | '),
    }));
  return {
    lsid: report.lsid,
    externalKey: report.externalKey ?? '',
    start: report.startTime?.iso ?? '',
    end: report.endTime?.iso ?? '',
    duration: report.duration ?? '',
    site: report.publicSite?.name ?? '',
    customer: {
      name: customer?.username ?? report.primaryCustomer?.name ?? 'customer',
      ip: customer?.publicIp ?? '',
      hostname: customer?.hostname ?? '',
      os: customer?.os ?? '',
    },
    reps: report.reps.map((r) => ({
      name: r.publicDisplayName || r.username,
      username: r.username,
      primary: r.primaryRep,
      owner: r.sessionOwner,
    })),
    teams: report.teams.map((t) => t.name),
    custom: report.customAttributes.map((c) => ({ name: c.displayName || c.codeName, code: c.codeName, value: c.value })),
    chat,
    files,
    notes,
    systemInfo,
    surveys: {
      customer: answers(report.customerSurveys.flatMap((s) => s.answers)),
      rep: answers(report.repSurveys.flatMap((s) => s.answers)),
    },
    recordings: recordingsOf(report).map((r) => ({ label: r.label, viewUrl: r.viewUrl ?? '' })),
    chatViewUrl: report.chatViewUrl ?? '',
    events: report.events.map((e) => ({
      at: time(e.timestamp),
      time: clock(e.timestamp),
      type: e.type,
      by: e.performedBy?.name ?? '',
      detail: describe(e),
    })),
  };
}

export type SessionView = ReturnType<typeof sessionView>;

/**
 * Splits a note at line breaks into parts no longer than `max` (a single overlong line is cut), so a
 * ticket system's size limit never truncates a note silently.
 */
export function splitNote(note: string, max: number): string[] {
  if (note.length <= max) return [note];
  const parts: string[] = [];
  let current = '';
  for (const line of note.split('\n')) {
    for (let piece = line; ;) {
      const room = max - current.length - (current ? 1 : 0);
      if (piece.length <= room) {
        current = current ? `${current}\n${piece}` : piece;
        break;
      }
      if (current) {
        parts.push(current);
        current = '';
        continue;
      }
      parts.push(piece.slice(0, max));
      piece = piece.slice(max);
      if (!piece) break;
    }
  }
  if (current) parts.push(current);
  return parts;
}
