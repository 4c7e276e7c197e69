import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { WebSocket, WebSocketServer } from 'ws';
import { document, el, NS } from './xml-writer';

/**
 * A BeyondTrust Remote Support appliance on loopback, as the API guide (22.2) describes it:
 * OAuth client credentials with expiring tokens and the 30-token cap, `access_denied` JSON for bad
 * tokens, per-account rate limits (429 + X-RateLimit-* + Retry-After), namespaced XML answers,
 * `<error>` inside HTTP 200 for bad parameters, recordings streamed in chunks. Tests drive its
 * sessions (start, chat, end, recordings, surveys) and inject faults (5xx, delays, revoked secrets).
 */

export interface FakeAccount {
  clientId: string;
  clientSecret: string;
  /** perm_command: full_access | read_only | deny; perm_reporting_support and the others: '1' | '0'. */
  permissions: Record<string, string>;
}

export interface FakeApplianceOptions {
  tokenTtlSeconds?: number;
  perSecond?: number;
  perHour?: number;
  /** The length of the rate limit's "hour" in ms: 3,600,000, shortened only by the compressed-hour bench. */
  hourMs?: number;
  accounts?: FakeAccount[];
  /** Simulated processing time of a report, ms. */
  reportLatencyMs?: number;
  /** How the SupportSession report numbers command shell recordings (see commandShellNumbering). */
  commandShellNumbering?: 0 | 1;
  /**
   * Each request is counted up to this many ms (uniformly at random) after it was sent, as a network and a
   * busy client spread requests out on their way: requests sent evenly can arrive bunched.
   */
  arrivalJitterMs?: number;
}

export interface FakeParticipant {
  gsnumber: string;
  type: 'system' | 'customer' | 'representative';
  name: string;
}

export interface FakeEvent {
  type: string;
  timestamp: number;
  performedBy?: FakeParticipant;
  destination?: FakeParticipant;
  body?: string;
  filename?: string;
  filesize?: number;
  data?: Record<string, string>;
  systemInformation?: { name: string; fields: string[]; rows: string[][] }[];
}

export interface FakeRep {
  id: string;
  username: string;
  displayName: string;
  displayNumber: string;
  gsnumber: string;
  loggedIn: boolean;
  teams: string[];
  /** An invited user (not a member of the site): reports add `<invited>1</invited>`. */
  invited?: boolean;
}

export interface FakeSession {
  lsid: string;
  lseq: number;
  externalKey?: string;
  custom: Record<string, string>;
  queueId: string;
  startTime: number;
  endTime?: number;
  customer: { name: string; company?: string; ip: string; os: string; hostname: string; gsnumber: string; inSession: boolean };
  reps: { rep: FakeRep; owner: boolean; joinedAt: number }[];
  events: FakeEvent[];
  recordings: { session?: number; showMyScreen: number[]; commandShell: number[] };
  surveys: { customer?: Record<string, string>; rep?: Record<string, string> };
  virtual: boolean;
}

type Row = Record<string, unknown>;

interface Token {
  token: string;
  clientId: string;
  expiresAt: number;
}

interface KeyRecord {
  shortKey: string;
  queueId: string;
  externalKey?: string;
  custom: Record<string, string>;
  priority?: string;
  skills?: string;
  expiresAt: number;
  used: boolean;
}

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  params: Record<string, string>;
  status: number;
  clientId?: string;
}

const NOW = () => Math.floor(Date.now() / 1000);
const FULL_PERMISSIONS: Record<string, string> = {
  perm_backup: '0',
  perm_command: 'full_access',
  perm_configuration: '0',
  perm_ecm: '0',
  perm_real_time_state: '1',
  perm_reporting_archive: '1',
  perm_reporting_license: '1',
  perm_reporting_presentation: '1',
  perm_reporting_support: '1',
};
const READ_ONLY_ACTIONS = new Set([
  'get_logged_in_reps',
  'set_rep_status',
  'get_support_teams',
  'send_chat_message',
  'create_virtual_customer',
  'leave_session',
  'get_session_attributes',
  'get_appliances',
  'get_connected_client_list',
  'get_connected_clients',
  'check_health',
  'get_api_info',
]);

const REPORT_PERMISSION: Record<string, string> = {
  PresentationSession: 'perm_reporting_presentation',
  PresentationSessionListing: 'perm_reporting_presentation',
  PresentationSessionRecording: 'perm_reporting_presentation',
  LicenseUsage: 'perm_reporting_license',
  EndpointLicenseUsage: 'perm_reporting_license',
  ArchiveListing: 'perm_reporting_archive',
  Archive: 'perm_reporting_archive',
};

class XmlError extends Error {}

/**
 * Answers whose root the guide says "will contain an <error> element describing the problem": an error
 * there comes inside that root. Every other answer (success-or-error commands, recordings) is a root <error>.
 */
const LIST_ROOT: Record<string, string> = {
  get_logged_in_reps: 'logged_in_reps',
  get_support_teams: 'support_teams',
  get_appliances: 'appliances',
  get_connected_client_list: 'connected_client_list',
  SupportSession: 'session_list',
  SupportSessionListing: 'session_summary_list',
  SupportSessionSummary: 'summary_list',
  PresentationSession: 'session_list',
  PresentationSessionListing: 'presentation_summary_list',
  SupportCustExitSurvey: 'exit_survey_list',
  SupportRepExitSurvey: 'exit_survey_list',
  SupportTeam: 'team_activity_list',
  LicenseUsage: 'license_usage',
};

export class FakeAppliance {
  readonly accounts = new Map<string, FakeAccount>();
  readonly reps: FakeRep[] = [
    { id: '1', username: 'admin', displayName: 'Ada Admin', displayNumber: '1', gsnumber: '11', loggedIn: true, teams: ['1'] },
    { id: '2', username: 'bob', displayName: 'Bob Tech', displayNumber: '2', gsnumber: '12', loggedIn: true, teams: ['1', '2'] },
    { id: '3', username: 'carol', displayName: 'Carol Away', displayNumber: '3', gsnumber: '13', loggedIn: false, teams: ['2'] },
  ];
  readonly teams = [
    { id: '1', name: 'Service Desk', codeName: 'service_desk', issues: [{ id: '1', title: 'Printing', codeName: 'printing' }] },
    { id: '2', name: 'Escalations', codeName: 'escalations', issues: [] as { id: string; title: string; codeName: string }[] },
  ];
  readonly customFields = new Set(['external_key', 'ticket_id', 'priority_label', 'customer_email', 'custom_field1']);
  readonly sessions = new Map<string, FakeSession>();
  readonly keys = new Map<string, KeyRecord>();
  readonly presentations = new Map<
    string,
    {
      lsid: string;
      lseq: number;
      startTime: number;
      endTime?: number;
      presenterId: string;
      attendees: { name: string; ip: string }[];
      recording?: number;
    }
  >();
  /** Peak license usage rows, as LicenseUsage reports them. */
  readonly licenseUsage: { timestamp: number; counts: { type: string; reason?: string; count: number }[] }[] = [];
  readonly requests: RecordedRequest[] = [];
  tokenRequests = 0;
  rateLimited = 0;

  private server?: Server;
  private wss?: WebSocketServer;
  /** Real-time state API subscribers that finished authenticate + subscribe. */
  private readonly subscribers = new Set<WebSocket>();
  private readonly rowIds = new Map<string, string>();
  /** Lets a test see the reassembly of split frames: big messages are sent in two parts. */
  splitRealtimeMessagesOver = 400;
  private tokens: Token[] = [];
  private readonly hits = new Map<string, { second: number[]; hour: number[] }>();
  private faults: { status: number; remaining: number; delayMs?: number; retryAfter?: string }[] = [];
  /** Answers (token ones too) sent a byte at a time, as a slow appliance or a proxy in between would. */
  private trickles: { remaining: number; intervalMs: number }[] = [];
  /** API answers replaced: a body the fake cannot otherwise produce, or that many bytes of XML. */
  private rawAnswers: { remaining: number; body: string | { bytes: number } }[] = [];
  /** Recordings stop sending (without closing) after this many bytes. */
  stallRecordingsAfter?: number;
  /**
   * The next this many recording downloads answer the guide's `<error>` (200, XML), as for a recording the
   * report lists but the appliance no longer stores (purged by its retention policy, say).
   */
  refuseRecordingDownloads = 0;
  /** Recordings stream at most this fast (bytes per second), so a test can act mid-transfer; 0: no limit. */
  recordingBytesPerSecond = 0;
  private nextLseq = 1000;
  /** The HTTP recipient of outbound events, when one is configured (see sendOutboundEventsTo). */
  private outbound?: { url: string; token: string; via: 'query' | 'header'; retryMs: number };
  private readonly outboundQueue: Record<string, string>[] = [];
  private outboundBusy?: Promise<void>;
  /** Every outbound event POST and the status it got, in order. */
  readonly outboundDeliveries: { event: string; lsid?: string; status: number }[] = [];
  private readonly options: Required<Omit<FakeApplianceOptions, 'accounts' | 'commandShellNumbering'>>;
  /**
   * The guide contradicts itself on the `instance` of <command_shell_recording> in the SupportSession report:
   * its element table starts at 0, its CommandShellRecording section says the report starts at 1. Either
   * reading can be played; the download (CommandShellRecording) counts from 0 in both.
   */
  commandShellNumbering: 0 | 1;
  /**
   * The guide says leave_session "removes a customer or representative from a session", nothing about the
   * session ending when the customer is a virtual one. By default the session goes on (a representative
   * may still be in it); set this to play an appliance that ends it.
   */
  virtualCustomerLeaveEndsSession = false;
  url = '';

  constructor(options: FakeApplianceOptions = {}) {
    this.options = {
      tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
      perSecond: options.perSecond ?? 20,
      perHour: options.perHour ?? 15_000,
      hourMs: options.hourMs ?? 3_600_000,
      reportLatencyMs: options.reportLatencyMs ?? 0,
      arrivalJitterMs: options.arrivalJitterMs ?? 0,
    };
    this.commandShellNumbering = options.commandShellNumbering ?? 0;
    for (const account of options.accounts ?? [
      { clientId: 'rsb-client', clientSecret: 'rsb-secret-0123456789', permissions: FULL_PERMISSIONS },
    ]) {
      this.accounts.set(account.clientId, { ...account, permissions: { ...FULL_PERMISSIONS, ...account.permissions } });
    }
  }

  static readonly FULL_PERMISSIONS = FULL_PERMISSIONS;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({
      server: this.server,
      path: '/nw',
      handleProtocols: (protocols) => (protocols.has('ingredi%20state%20api') ? 'ingredi%20state%20api' : false),
    });
    this.wss.on('connection', (socket) => this.realtime(socket));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.outbound = undefined;
    if (!this.server) return;
    for (const client of this.wss?.clients ?? []) client.terminate();
    this.wss?.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  // --- test controls -----------------------------------------------------------------------------

  /** The next `count` API requests answer `status` (after `delayMs`), as an overloaded appliance would. */
  failNext(count: number, status: number, options: { delayMs?: number; retryAfter?: string } = {}): void {
    this.faults.push({ status, remaining: count, ...options });
  }

  /** The next `count` answers, token answers included, arrive a byte every `intervalMs` (never idle that long). */
  trickleNext(count: number, intervalMs = 500): void {
    this.trickles.push({ remaining: count, intervalMs });
  }

  /** The next `count` API answers are `body` (200, text/xml), or `{ bytes }` of well-formed XML generated as it is sent. */
  answerNext(count: number, body: string | { bytes: number }): void {
    this.rawAnswers.push({ remaining: count, body });
  }

  /** "Generate New Client Secret" in /login: every token of the account dies at once. */
  regenerateSecret(clientId: string): string {
    const account = this.accounts.get(clientId)!;
    account.clientSecret = randomBytes(16).toString('hex');
    this.tokens = this.tokens.filter((t) => t.clientId !== clientId);
    return account.clientSecret;
  }

  validTokenCount(clientId: string): number {
    return this.tokens.filter((t) => t.clientId === clientId && t.expiresAt > Date.now()).length;
  }

  /** A customer starts a session (full client or click-to-chat), optionally from a session key. */
  startSession(
    init: Partial<Pick<FakeSession, 'externalKey' | 'custom' | 'queueId'>> & {
      customerName?: string;
      virtual?: boolean;
      startTime?: number;
    } = {},
  ): FakeSession {
    const lsid = randomUUID().replace(/-/g, '');
    const start = init.startTime ?? NOW();
    const session: FakeSession = {
      lsid,
      lseq: this.nextLseq++,
      externalKey: init.externalKey,
      custom: { ...init.custom },
      queueId: init.queueId ?? 'general',
      startTime: start,
      customer: {
        name: init.customerName ?? 'Casey Customer',
        ip: '203.0.113.7',
        os: 'Windows 11',
        hostname: 'CASEY-PC',
        gsnumber: '21',
        inSession: true,
      },
      reps: [],
      events: [],
      recordings: { showMyScreen: [], commandShell: [] },
      surveys: {},
      virtual: init.virtual ?? false,
    };
    session.events.push({ type: 'Session Start', timestamp: start, performedBy: this.customerOf(session) });
    this.sessions.set(lsid, session);
    this.publish({ insert: { support_session: { [this.rowId(`session:${session.lsid}`)]: this.sessionRow(session) } } });
    this.emitOutbound('support_conference_begin', session);
    this.emitOutbound('support_conference_member_added', session, { type: 'customer', display_name: session.customer.name });
    return session;
  }

  /** A representative accepts or joins the session. */
  joinRep(lsid: string, repId: string, at = NOW()): void {
    const session = this.session(lsid);
    const rep = this.reps.find((r) => r.id === repId)!;
    const owner = session.reps.length === 0;
    session.reps.push({ rep, owner, joinedAt: at });
    this.publish({
      insert: {
        representative_support_session: {
          [this.rowId(`member:${session.lsid}:${rep.id}`)]: this.memberRow(session, rep, at),
        },
      },
    });
    session.events.push({
      type: owner ? 'Conference Owner Changed' : 'Conference Member Added',
      timestamp: at,
      performedBy: this.repOf(rep),
      data: { name: rep.displayName, username: rep.username, user_id: rep.id },
    });
    this.emitOutbound('support_conference_member_added', session, this.memberVariables(rep));
    if (owner) this.emitOutbound('support_conference_owner_changed', session, this.memberVariables(rep));
  }

  /** The session's owner hands it to another representative (who joins if not in it yet). */
  transferSession(lsid: string, toRepId: string, at = NOW()): void {
    const session = this.session(lsid);
    const rep = this.reps.find((r) => r.id === toRepId)!;
    for (const member of session.reps) member.owner = false;
    const member = session.reps.find((r) => r.rep.id === toRepId);
    if (member) member.owner = true;
    else session.reps.push({ rep, owner: true, joinedAt: at });
    session.events.push({
      type: 'Conference Owner Changed',
      timestamp: at,
      performedBy: this.repOf(rep),
      data: { name: rep.displayName, username: rep.username, user_id: rep.id },
    });
    this.emitOutbound('support_conference_owner_changed', session, this.memberVariables(rep));
  }

  chat(lsid: string, from: 'customer' | 'system' | { repId: string }, text: string, at = NOW()): void {
    const session = this.session(lsid);
    const performedBy =
      from === 'customer'
        ? this.customerOf(session)
        : from === 'system'
          ? { gsnumber: '0', type: 'system' as const, name: 'System' }
          : this.repOf(this.reps.find((r) => r.id === from.repId)!);
    session.events.push({ type: 'Chat Message', timestamp: at, performedBy, body: text });
  }

  addEvent(lsid: string, event: FakeEvent): void {
    this.session(lsid).events.push(event);
  }

  addRecording(lsid: string, kind: 'session' | 'showMyScreen' | 'commandShell', bytes: number): void {
    const r = this.session(lsid).recordings;
    if (kind === 'session') r.session = bytes;
    else r[kind].push(bytes);
  }

  setSurvey(lsid: string, who: 'customer' | 'rep', answers: Record<string, string>): void {
    const session = this.session(lsid);
    session.surveys[who] = answers;
    if (session.endTime !== undefined)
      this.emitOutbound(
        who === 'customer' ? 'support_conference_customer_exit_survey_completed' : 'support_conference_rep_exit_survey_completed',
        session,
      );
  }

  endSession(lsid: string, at = NOW()): void {
    const session = this.session(lsid);
    session.endTime = at;
    session.customer.inSession = false;
    this.publish({
      delete: {
        support_session: [this.rowId(`session:${session.lsid}`)],
        representative_support_session: session.reps.map((r) => this.rowId(`member:${session.lsid}:${r.rep.id}`)),
      },
    });
    session.events.push({ type: 'Session End', timestamp: at, performedBy: { gsnumber: '0', type: 'system', name: 'System' } });
    this.emitOutbound('support_conference_end', session);
  }

  /**
   * Configures an HTTP recipient of outbound events, as /login > Management > Outbound Events does. As the
   * appliance does, events go one at a time, in order; an event that does not get a 200 is retried and
   * holds back every later one. The appliance posts only its own variables, so the token is part of the
   * recipient's URL (`query`), or added on the way by a proxy (`header`).
   */
  sendOutboundEventsTo(url: string, token: string, via: 'query' | 'header' = 'query', retryMs = 200): void {
    this.outbound = { url, token, via, retryMs };
  }

  /** Posts an event as the appliance would (tests use it for redeliveries and odd events). */
  emitOutboundRaw(fields: Record<string, string>): void {
    if (!this.outbound) return;
    this.outboundQueue.push(fields);
    this.outboundBusy ??= this.drainOutbound().finally(() => (this.outboundBusy = undefined));
  }

  /** Enables POST /__fake/play-session?external_key=… (the sandbox's way to end a session from outside). */
  controlRoutes = false;

  /** A short, complete session: the rep joins, both chat, a file goes over, a recording, the end. */
  playSession(externalKey?: string): FakeSession {
    const at = NOW() - 300;
    const s = this.startSession({ externalKey, startTime: at });
    this.joinRep(s.lsid, '2', at + 10);
    this.chat(s.lsid, 'customer', 'Hi, my printer is on fire.', at + 20);
    this.chat(s.lsid, { repId: '2' }, 'Pushing a fix now.', at + 40);
    this.addEvent(s.lsid, {
      type: 'File Upload',
      timestamp: at + 60,
      performedBy: this.repOf(this.reps[1]),
      filename: 'fix.ps1',
      filesize: 2048,
    });
    this.addRecording(s.lsid, 'session', 256 * 1024);
    this.setSurvey(s.lsid, 'customer', { satisfaction: 'Very satisfied' });
    this.endSession(s.lsid, at + 120);
    return s;
  }

  /** Resolves when every queued outbound event got its 200. */
  async outboundDrained(): Promise<void> {
    while (this.outboundBusy) await this.outboundBusy;
  }

  /**
   * The variables of a support-session event: the standard three (event, version, timestamp), then
   * appliance_id, lsid and external_key; member and owner events add the member. Nothing else.
   */
  private emitOutbound(event: string, session: FakeSession, member: Record<string, string> = {}): void {
    const fields: Record<string, string> = {
      event,
      version: '3',
      timestamp: String(NOW()),
      appliance_id: 'fake-appliance',
      lsid: session.lsid,
      ...(session.externalKey ? { external_key: session.externalKey } : {}),
      ...member,
    };
    this.emitOutboundRaw(fields);
  }

  private memberVariables(rep: FakeRep): Record<string, string> {
    return { type: 'representative', user_id: rep.id, username: rep.username, display_name: rep.displayName };
  }

  private async drainOutbound(): Promise<void> {
    while (this.outbound && this.outboundQueue.length) {
      const { url, token, via, retryMs } = this.outbound;
      const fields = { ...this.outboundQueue[0] };
      const target = new URL(url);
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (via === 'query') target.searchParams.set('token', token);
      else headers['x-rsb-events-token'] = token;
      let status = 0;
      try {
        const res = await fetch(target, { method: 'POST', headers, body: new URLSearchParams(fields).toString() });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        status = 0;
      }
      this.outboundDeliveries.push({ event: fields.event, lsid: fields.lsid, status });
      if (status === 200) this.outboundQueue.shift();
      else await new Promise((r) => setTimeout(r, retryMs));
    }
  }

  /** Ends every real-time connection, as an appliance restart would. */
  dropRealtimeConnections(): void {
    for (const client of this.wss?.clients ?? []) client.terminate();
  }

  // --- real-time state API -------------------------------------------------------------------------

  private realtime(socket: WebSocket): void {
    let phase: 'auth' | 'subscribe' | 'streaming' = 'auth';
    let buffer = '';
    socket.on('message', (data: Buffer) => {
      buffer += data.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const message = JSON.parse(line) as { type: string; credentials?: { bearer_token?: string }; tables?: 'all' | string[] };
        if (phase === 'auth' && message.type === 'authenticate') {
          const token = this.tokens.find((t) => t.token === message.credentials?.bearer_token && t.expiresAt > Date.now());
          const allowed = token && this.accounts.get(token.clientId)?.permissions.perm_real_time_state === '1';
          this.sendRealtime(
            socket,
            allowed
              ? { type: 'authenticate_response', success: true }
              : { type: 'authenticate_response', success: false, reason: token ? 'permission denied' : 'invalid token' },
          );
          if (allowed) phase = 'subscribe';
        } else if (phase === 'subscribe' && message.type === 'subscribe') {
          this.sendRealtime(socket, { type: 'subscribe_response', timestamp: NOW(), success: true });
          phase = 'streaming';
          this.subscribers.add(socket);
          // A new subscriber gets a full copy of the tables, then the updates.
          const active = [...this.sessions.values()].filter((x) => x.endTime === undefined);
          this.sendRealtime(socket, {
            type: 'model_update',
            insert: {
              representative: Object.fromEntries(
                this.reps
                  .filter((r) => r.loggedIn)
                  .map((r) => [
                    this.rowId(`rep:${r.id}`),
                    { user_id: Number(r.id), username: r.username, public_display_name: r.displayName, routing_available: 1 },
                  ]),
              ),
              support_session: Object.fromEntries(active.map((x) => [this.rowId(`session:${x.lsid}`), this.sessionRow(x)])),
              representative_support_session: Object.fromEntries(
                active.flatMap((x) =>
                  x.reps.map((r) => [this.rowId(`member:${x.lsid}:${r.rep.id}`), this.memberRow(x, r.rep, r.joinedAt)]),
                ),
              ),
            },
          });
        } else {
          socket.close(1008, 'protocol violation');
        }
      }
    });
    socket.on('close', () => this.subscribers.delete(socket));
  }

  /**
   * The row id of a thing in the real-time model. The guide: "64-bit unsigned integers are used to generate
   * the id value. The maximum allowed value is 18446744073709551615." This fake hands them out from that
   * maximum down, so every id and foreign key is beyond what a double holds exactly.
   */
  rowId(thing: string): string {
    let id = this.rowIds.get(thing);
    if (id === undefined) {
      id = String(18446744073709551615n - BigInt(this.rowIds.size));
      this.rowIds.set(thing, id);
    }
    return id;
  }

  private memberRow(s: FakeSession, rep: FakeRep, at: number): Row {
    return {
      representative_id: BigInt(this.rowId(`rep:${rep.id}`)),
      support_session_id: BigInt(this.rowId(`session:${s.lsid}`)),
      created_timestamp: at,
    };
  }

  private sessionRow(s: FakeSession): Row {
    return {
      lsid: s.lsid,
      created_timestamp: s.startTime,
      customer_name: s.customer.name,
      queue_entry_timestamp: s.startTime,
      estimated_pickup_timestamp: s.startTime + 120,
      priority: 2,
      start_method: s.virtual ? 'session_key' : 'rep_list',
    };
  }

  private publish(update: Record<string, unknown>): void {
    for (const socket of this.subscribers) this.sendRealtime(socket, { type: 'model_update', ...update });
  }

  /** Binary frames, newline-terminated; large messages split over two frames as the guide warns. */
  private sendRealtime(socket: WebSocket, message: unknown): void {
    // 64-bit ids go out as bare JSON numbers, as the appliance writes them (JSON.stringify cannot write a BigInt).
    const json = JSON.stringify(message, (_key, value: unknown) => (typeof value === 'bigint' ? `\u0000big:${value}` : value));
    const text = `${json.replace(/"\\u0000big:(\d+)"/g, '$1')}\n`;
    if (text.length > this.splitRealtimeMessagesOver) {
      const half = Math.floor(text.length / 2);
      socket.send(Buffer.from(text.slice(0, half)), { binary: true });
      socket.send(Buffer.from(text.slice(half)), { binary: true });
    } else {
      socket.send(Buffer.from(text), { binary: true });
    }
  }

  /** The bytes a recording streams: a deterministic pattern, so a test can check what arrived. */
  static recordingBytes(lsid: string, kind: string, instance: number, offset: number, length: number): Buffer {
    // seed[o % 32] ^ (o & 0xff) repeats every 256 bytes: build one period, then tile it.
    const seed = createHash('sha256').update(`${lsid}:${kind}:${instance}`).digest();
    const period = Buffer.allocUnsafe(256);
    for (let o = 0; o < 256; o += 1) period[o] = seed[o % seed.length] ^ o;
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length;) {
      const start = (offset + i) % 256;
      i += period.copy(out, i, start, Math.min(256, start + length - i));
    }
    return out;
  }

  // --- HTTP ----------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const jitter = this.options.arrivalJitterMs;
    if (jitter > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * jitter));
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await readBody(req);
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    if (req.method === 'POST' && /application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
    }
    const record: RecordedRequest = { at: Date.now(), method: req.method ?? 'GET', path: url.pathname, params, status: 0 };
    this.requests.push(record);
    // The guide asks clients to close the connection after each call; the fake notes it in the answer.
    res.setHeader('connection', 'close');
    const trickle = this.trickles.find((t) => t.remaining > 0);
    if (trickle) trickle.remaining -= 1;
    const send = (status: number, type: string, payload: string | Buffer, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': type, ...headers });
      if (!trickle) return void res.end(payload);
      void (async () => {
        const bytes = Buffer.from(payload);
        for (let i = 0; i < bytes.length && !res.destroyed; i += 1) {
          res.write(bytes.subarray(i, i + 1));
          await new Promise((r) => setTimeout(r, trickle.intervalMs));
        }
        if (!res.destroyed) res.end();
      })();
    };

    if (url.pathname === '/check_health') return send(200, 'text/plain', 'OK');
    if (url.pathname === '/__fake/play-session' && req.method === 'POST' && this.controlRoutes) {
      // Sandbox only: a customer and a representative hold a short session for this external key and end it.
      const session = this.playSession(url.searchParams.get('external_key') ?? undefined);
      return send(200, 'application/json', JSON.stringify({ lsid: session.lsid }));
    }
    if (url.pathname === '/oauth2/token') return this.token(req, body, send);

    // Every API endpoint: bearer token, then the account's rate limit.
    const auth = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    const token = auth && this.tokens.find((t) => t.token === auth[1] && t.expiresAt > Date.now());
    if (!token) {
      return send(
        401,
        'application/json',
        JSON.stringify({ error: 'access_denied', message: 'The resource owner or authorization server denied the request.' }),
      );
    }
    record.clientId = token.clientId;
    const limit = this.rateLimit(token.clientId);
    const rateHeaders = { 'X-RateLimit-Limit': String(this.options.perHour), 'X-RateLimit-Remaining': String(limit.remaining) };
    if (!limit.ok) {
      this.rateLimited += 1;
      return send(429, 'text/plain', 'Too Many Requests', { ...rateHeaders, 'Retry-After': String(limit.retryAfter) });
    }
    const fault = this.faults.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining -= 1;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (res.destroyed) return;
      return send(fault.status, 'text/html', `<html><body>${fault.status}</body></html>`, {
        ...rateHeaders,
        ...(fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {}),
      });
    }
    const raw = this.rawAnswers.find((a) => a.remaining > 0);
    if (raw) {
      raw.remaining -= 1;
      if (typeof raw.body === 'string') return send(200, 'text/xml; charset=UTF-8', raw.body, rateHeaders);
      record.status = 200;
      res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8', ...rateHeaders });
      return void xmlOfSize(raw.body.bytes).pipe(res);
    }
    const account = this.accounts.get(token.clientId)!;
    try {
      if (url.pathname === '/api/command') return send(200, 'text/xml; charset=UTF-8', this.command(account, params), rateHeaders);
      if (url.pathname === '/api/reporting') {
        const needed = REPORT_PERMISSION[params.generate_report] ?? 'perm_reporting_support';
        if (account.permissions[needed] !== '1') return send(404, 'text/html', '<html><body>Document Not Found</body></html>', rateHeaders);
        if (this.options.reportLatencyMs) await new Promise((r) => setTimeout(r, this.options.reportLatencyMs));
        return this.reporting(params, rateHeaders, send, res, record);
      }
      return send(404, 'text/html', '<html><body>Document Not Found</body></html>', rateHeaders);
    } catch (error) {
      if (!(error instanceof XmlError)) throw error;
      const ns = url.pathname === '/api/reporting' ? NS.reporting : NS.command;
      const listRoot = LIST_ROOT[url.pathname === '/api/reporting' ? params.generate_report : params.action];
      const answer = listRoot ? document(listRoot, ns, [el('error', {}, error.message)]) : document('error', ns, error.message);
      return send(200, 'text/xml; charset=UTF-8', answer, rateHeaders);
    }
  }

  private token(req: IncomingMessage, body: string, send: (s: number, t: string, p: string) => void): void {
    this.tokenRequests += 1;
    const basic = /^Basic (\S+)$/i.exec(req.headers.authorization ?? '');
    const [clientId, secret] = basic ? Buffer.from(basic[1], 'base64').toString('utf8').split(/:(.*)/s) : [];
    const account = clientId ? this.accounts.get(clientId) : undefined;
    if (!new URLSearchParams(body).get('grant_type')?.includes('client_credentials')) {
      return send(
        400,
        'application/json',
        JSON.stringify({ error: 'unsupported_grant_type', message: 'The authorization grant type is not supported.' }),
      );
    }
    if (!account || account.clientSecret !== secret) {
      return send(401, 'application/json', JSON.stringify({ error: 'invalid_client', message: 'Client authentication failed.' }));
    }
    const mine = this.tokens.filter((t) => t.clientId === clientId && t.expiresAt > Date.now());
    // An account holds at most 30 valid tokens: the 31st invalidates the oldest.
    if (mine.length >= 30) this.tokens = this.tokens.filter((t) => t !== mine[0]);
    const token: Token = {
      token: randomBytes(20).toString('base64url'),
      clientId,
      expiresAt: Date.now() + this.options.tokenTtlSeconds * 1000,
    };
    this.tokens.push(token);
    send(
      200,
      'application/json',
      JSON.stringify({ access_token: token.token, token_type: 'Bearer', expires_in: this.options.tokenTtlSeconds }),
    );
  }

  private rateLimit(clientId: string): { ok: boolean; remaining: number; retryAfter: number } {
    const now = Date.now();
    const h = this.hits.get(clientId) ?? { second: [], hour: [] };
    this.hits.set(clientId, h);
    h.second = h.second.filter((t) => t > now - 1000);
    const { hourMs } = this.options;
    h.hour = h.hour.filter((t) => t > now - hourMs);
    if (h.second.length >= this.options.perSecond) return { ok: false, remaining: this.options.perHour - h.hour.length, retryAfter: 1 };
    if (h.hour.length >= this.options.perHour) return { ok: false, remaining: 0, retryAfter: Math.ceil((h.hour[0] + hourMs - now) / 1000) };
    h.second.push(now);
    h.hour.push(now);
    return { ok: true, remaining: this.options.perHour - h.hour.length, retryAfter: 0 };
  }

  // --- command API ---------------------------------------------------------------------------------

  private command(account: FakeAccount, p: Record<string, string>): string {
    const action = p.action;
    const perm = account.permissions.perm_command;
    if (perm === 'deny') throw new XmlError('The API account does not have access to the command API.');
    if (perm === 'read_only' && !READ_ONLY_ACTIONS.has(action))
      throw new XmlError('The API account has read-only access to the command API.');
    const doc = (root: string, children: string | string[], attrs = {}) => document(root, NS.command, children, attrs);
    const need = (...names: string[]) => {
      for (const n of names) if (!p[n]) throw new XmlError(`Missing required parameter: ${n}`);
    };

    switch (action) {
      case 'get_logged_in_reps':
        return doc(
          'logged_in_reps',
          this.reps
            .filter((r) => r.loggedIn)
            .map((r) =>
              el('rep', { id: r.id }, [
                el('display_name', {}, r.displayName),
                el('public_display_name', {}, r.displayName),
                el('private_display_name', {}, `${r.displayName} (private)`),
                el('type', {}, 'Normal'),
                el('direct_link', {}, `<a href="https://support.example.com/?id=${r.id}">${r.displayName}</a>`),
                el('logged_in_since', { timestamp: NOW() - 3600 }, new Date((NOW() - 3600) * 1000).toISOString()),
                el('presentation_count', {}, '0'),
                el(
                  'support_session_count',
                  {},
                  String([...this.sessions.values()].filter((s) => !s.endTime && s.reps.some((x) => x.rep === r)).length),
                ),
                el('showing_on_rep_list', {}, '1'),
              ]),
            ),
        );
      case 'set_rep_status':
        need('rep_id', 'code_name');
        if (!this.reps.some((r) => r.id === p.rep_id && r.loggedIn)) throw new XmlError('Representative is not logged in');
        return doc('success', 'Status set');
      case 'get_support_teams':
        return doc(
          'support_teams',
          this.teams.map((t) =>
            el('support_team', { id: t.id }, [
              el('name', {}, t.name),
              el(
                'issues',
                {},
                t.issues.map((i) => el('issue', { id: i.id }, [el('title', {}, i.title)])),
              ),
              el(
                'support_session_count',
                {},
                String([...this.sessions.values()].filter((s) => !s.endTime && s.queueId === `team:${t.id}`).length),
              ),
              ...(p.showmembers === '1'
                ? [
                    el(
                      'members',
                      {},
                      this.reps
                        .filter((r) => r.teams.includes(t.id))
                        .map((r) =>
                          el('representative', { id: r.id }, [
                            el('username', {}, r.username),
                            el('display_name', {}, r.displayName),
                            el('public_display_name', {}, r.displayName),
                            el('private_display_name', {}, r.displayName),
                          ]),
                        ),
                    ),
                  ]
                : []),
            ]),
          ),
        );
      case 'generate_session_key':
        return this.generateSessionKey(p, doc);
      case 'join_session': {
        need('lsid');
        const session = this.activeSession(p.lsid);
        const rep = this.reps.find((r) => (p.rep_id ? r.id === p.rep_id : r.username === p.rep_username));
        if (!rep)
          throw new XmlError(
            p.rep_id || p.rep_username ? 'Representative not found' : 'Missing required parameter: rep_id or rep_username',
          );
        if (!rep.loggedIn) throw new XmlError('Representative is not logged in');
        this.joinRep(session.lsid, rep.id);
        return doc('success', 'Representative successfully added');
      }
      case 'transfer_session': {
        need('lsid', 'queue_id');
        const session = this.activeSession(p.lsid);
        this.checkQueue(p.queue_id, false);
        // The guide's SupportSession event types list no transfer to a queue: the report shows none.
        session.queueId = p.queue_id;
        return doc('success', 'Successfully transferred');
      }
      case 'send_chat_message': {
        need('body');
        if (p.lsid && p.team_id) throw new XmlError('lsid and team_id cannot be used together');
        if (!p.lsid && !p.team_id) throw new XmlError('Missing required parameter: lsid or team_id');
        if (p.team_id) {
          if (!this.teams.some((t) => t.id === p.team_id)) throw new XmlError('Invalid team ID');
          return doc('success', 'Chat message sent');
        }
        const session = this.activeSession(p.lsid);
        const at = p.timestamp ? Number(p.timestamp) : NOW();
        if (p.timestamp && (!Number.isInteger(at) || at > NOW())) throw new XmlError('The timestamp must be in the past');
        let from: 'customer' | 'system' | { repId: string } = 'system';
        if (p.impersonate === 'customer') {
          if (!session.customer.inSession) throw new XmlError('The customer is not in the session');
          from = 'customer';
        } else if (p.impersonate?.startsWith('rep:') || p.impersonate?.startsWith('rep_username:')) {
          const [kind, value] = p.impersonate.split(/:(.*)/s);
          const rep = session.reps.find((x) => (kind === 'rep' ? x.rep.id === value : x.rep.username === value));
          if (!rep) throw new XmlError('The representative is not in the session');
          from = { repId: rep.rep.id };
        } else if (p.impersonate) throw new XmlError('Invalid impersonate value');
        this.chat(session.lsid, from, p.body, at);
        return doc('success', 'Chat message sent');
      }
      case 'create_virtual_customer': {
        need('short_key', 'name', 'ip_address', 'operating_system', 'computer_name');
        const key = this.keys.get(p.short_key);
        if (!key || key.expiresAt < Date.now()) throw new XmlError('Invalid session key');
        if (key.used) throw new XmlError('Session key has already been used');
        key.used = true;
        const session = this.startSession({
          externalKey: key.externalKey,
          custom: key.custom,
          queueId: key.queueId,
          customerName: p.name,
          virtual: true,
        });
        Object.assign(session.customer, { ip: p.ip_address, os: p.operating_system, hostname: p.computer_name });
        // The guide documents download_url only: no lsid comes back.
        const base = `https://support.example.com/api/virtual_customer?key=${p.short_key}`;
        return doc('create_virtual_customer', [el('download_url', {}, p.chat_url === '1' ? `${base}&c2c=1` : base)]);
      }
      case 'leave_session': {
        need('lsid');
        const session = this.activeSession(p.lsid);
        if (p.customer === '1') {
          if (!session.customer.inSession) throw new XmlError('The customer is not in the session');
          session.customer.inSession = false;
          if (session.virtual && this.virtualCustomerLeaveEndsSession) this.endSession(session.lsid);
          return doc('success', 'Customer successfully removed');
        }
        if (!p.rep_id && !p.rep_username) throw new XmlError('One of rep_id, rep_username or customer is required');
        const idx = session.reps.findIndex((x) => (p.rep_id ? x.rep.id === p.rep_id : x.rep.username === p.rep_username));
        if (idx < 0) throw new XmlError('The representative is not in the session');
        session.reps.splice(idx, 1);
        return doc('success', 'Representative successfully removed');
      }
      case 'set_session_attributes': {
        need('lsid');
        const session = this.activeSession(p.lsid);
        const custom = this.customParams(p);
        if (custom.external_key !== undefined) session.externalKey = custom.external_key || undefined;
        for (const [k, v] of Object.entries(custom)) if (k !== 'external_key') session.custom[k] = v;
        return doc('success', 'Session attributes were set');
      }
      case 'get_session_attributes': {
        need('lsid');
        const session = this.activeSession(p.lsid);
        const attrs = { ...(session.externalKey ? { external_key: session.externalKey } : {}), ...session.custom };
        return doc(
          'custom_attributes',
          Object.entries(attrs).map(([k, v]) => el('custom_attribute', { code_name: k, display_name: k.replace(/_/g, ' ') }, v)),
        );
      }
      case 'terminate_session': {
        need('lsid');
        this.endSession(this.activeSession(p.lsid).lsid);
        return doc('success', 'Successfully terminated');
      }
      case 'get_appliances':
        return doc('appliances', [
          el('appliance', { id: 'a1b2c3' }, [
            el('name', {}, 'fake-appliance'),
            el('public_hostname', {}, 'support.example.com'),
            el('cluster_role', {}, 'single'),
            el('failover_role', {}, 'none'),
            el('accepting_connections', {}, '1'),
            el('timezone_offset', {}, '0'),
          ]),
        ]);
      case 'get_connected_client_list': {
        const reps = this.reps.filter((r) => r.loggedIn);
        const customers = [...this.sessions.values()].filter((s) => s.customer.inSession);
        return doc('connected_client_list', [
          el('connected_client_summary', {}, [
            el('appliance_summary', { id: 'a1b2c3' }, [
              el('count', { type: 'representative' }, String(reps.length)),
              el('count', { type: 'support_customer' }, String(customers.length)),
            ]),
          ]),
          ...(p.summary_only === '1'
            ? []
            : [
                ...reps.map((r) => el('connected_client', { type: 'representative', id: `r${r.id}` })),
                ...customers.map((s) => el('connected_client', { type: 'support_customer', id: `c${s.lseq}` })),
              ]),
        ]);
      }
      case 'get_connected_clients': {
        const ids = p.id ? p.id.split(',') : undefined;
        if (ids && ids.length > 100) throw new XmlError('A maximum of 100 IDs is supported');
        const types = (p.type ?? 'all').split(',');
        const wanted = (type: string) => types.includes('all') || types.includes(type);
        const withConnections = p.include_connections === '1';
        const since = NOW() - 3600;
        // Only with include_connections: when the client connected, and its connections with their event log.
        const connection = (privateIp: string) =>
          withConnections
            ? [
                el('connected_since', { ts: since }, new Date(since * 1000).toISOString()),
                el('client_connections', {}, [
                  el('client_connection', {}, [
                    el('appliance_id', {}, 'a1b2c3'),
                    el('purpose', {}, 'primary'),
                    el('receive_traffic_node', {}, '0'),
                    el('connected_since', { ts: since }, new Date(since * 1000).toISOString()),
                    el('private_ip', {}, privateIp),
                  ]),
                ]),
                el('event_log', {}, [el('event', { ts: since }, 'Connected to a1b2c3 (primary)')]),
              ]
            : [];
        const reps = this.reps
          .filter((r) => r.loggedIn && wanted('representative') && (!ids || ids.includes(`r${r.id}`)))
          .map((r) => {
            const sessions = [...this.sessions.values()].filter((s) => !s.endTime && s.reps.some((x) => x.rep === r));
            return el('connected_representative', { id: `r${r.id}` }, [
              el('hostname', {}, `${r.username}-laptop`),
              el('platform', { id: 'winNT-64' }, 'Windows 11'),
              el('timezone_offset', {}, '0'),
              ...connection('10.0.0.1'),
              el('user_id', {}, r.id),
              el('type', {}, 'Normal'),
              el('username', {}, r.username),
              el('public_display_name', {}, r.displayName),
              el('private_display_name', {}, `${r.displayName} (private)`),
              el('start_session_url', {}, `https://support.example.com/?id=${r.id}`),
              el('presentation_count', {}, '0'),
              el('support_session_count', {}, String(sessions.length)),
              el('showing_on_rep_list', {}, '1'),
              el('routing_idle', {}, '0'),
              el('routing_busy', {}, '0'),
              el('routing_enabled', {}, '1'),
              el('routing_available', {}, '1'),
              el('support_license', {}, 'representative'),
              el(
                'support_session_ids',
                {},
                sessions.map((s) => el('lsid', {}, s.lsid)),
              ),
            ]);
          });
        const customers = [...this.sessions.values()]
          .filter((s) => s.customer.inSession && wanted('support_customer') && (!ids || ids.includes(`c${s.lseq}`)))
          .map((s) =>
            el('connected_support_customer', { id: `c${s.lseq}` }, [
              el('hostname', {}, s.customer.hostname),
              el('platform', { id: 'winNT-64' }, s.customer.os),
              el('timezone_offset', {}, '0'),
              ...connection('10.0.0.7'),
              el('name', {}, s.customer.name),
              el('lsid', {}, s.lsid),
            ]),
          );
        return doc('connected_clients', [...reps, ...customers]);
      }
      case 'check_health':
        return doc('check_health', [
          el('appliance', { id: 'a1b2c3' }, 'support.example.com'),
          el('version', {}, '22.2.1 (build 12345)'),
          el('success', {}, '1'),
          el('failover_role', {}, 'none'),
        ]);
      case 'set_failover_role': {
        need('role');
        if (!['primary', 'backup'].includes(p.role)) throw new XmlError('Invalid role');
        for (const flag of ['data_sync_first', 'force'])
          if (p[flag] !== undefined && !['0', '1'].includes(p[flag])) throw new XmlError(`Invalid ${flag}`);
        // The guide does not say what an absent data_sync_first means; this fake syncs, so only an explicit 0 skips it.
        return p.data_sync_first === '0'
          ? doc('success', 'Successfully changed role')
          : doc('success', 'Successfully started data sync. Role change will occur upon successful completion');
      }
      case 'import_jump_shortcut':
        need('name', 'group');
        if (!Object.keys(p).some((k) => /_hostname$/.test(k))) throw new XmlError('Missing required parameter: hostname');
        return doc('success', 'Successfully imported Jump Item shortcut');
      case 'get_api_info':
        return doc('get_api_info', [
          el('api_version', {}, '1.22.2'),
          el('company_name', {}, 'example'),
          el('timestamp', {}, String(NOW())),
          el(
            'permissions',
            {},
            Object.entries(account.permissions).map(([name, value]) => el('permission', { name, value })),
          ),
        ]);
      default:
        throw new XmlError(action ? `Invalid action: ${action}` : 'Missing required parameter: action');
    }
  }

  private generateSessionKey(p: Record<string, string>, doc: (root: string, children: string | string[]) => string): string {
    if (p.type !== 'support') throw new XmlError(p.type ? 'Invalid session type' : 'Missing required parameter: type');
    if (!p.queue_id) throw new XmlError('Missing required parameter: queue_id');
    const queue = this.checkQueue(p.queue_id, true);
    const custom = this.customParams(p);
    if (p['session.priority'] && !['1', '2', '3'].includes(p['session.priority'])) throw new XmlError('Invalid priority');
    const ttl = p.ttl ? Number(p.ttl) : 86400;
    if (!Number.isInteger(ttl) || ttl <= 0) throw new XmlError('Invalid ttl');
    let shortKey: string;
    do shortKey = String(Math.floor(1_000_000 + Math.random() * 8_999_999));
    while (this.keys.has(shortKey));
    const expires = NOW() + ttl;
    this.keys.set(shortKey, {
      shortKey,
      queueId: p.queue_id,
      externalKey: custom.external_key,
      custom: Object.fromEntries(Object.entries(custom).filter(([k]) => k !== 'external_key')),
      priority: p['session.priority'],
      skills: p['session.skills'],
      expiresAt: expires * 1000,
      used: false,
    });
    const host = p.url_hostname || 'support.example.com';
    return doc('session_key', [
      el('type', {}, 'support'),
      el('ttl', {}, String(ttl)),
      // "The timestamp at which this session key expires": UNIX seconds, as the guide's other timestamps.
      el('expires', {}, String(expires)),
      el('queue', { available: queue.available ? '1' : '0' }, queue.kind),
      el('queue_id', {}, queue.id),
      ...(custom.external_key ? [el('external_key', {}, custom.external_key)] : []),
      el('short_key', {}, shortKey),
      el('key_url', {}, `https://${host}/?ak=${shortKey}`),
      el('mail_subject', {}, 'Support Session Invitation'),
      el('mail_body', {}, `Please click the link to start a support session: https://${host}/?ak=${shortKey}`),
    ]);
  }

  private checkQueue(queueId: string, allowGeneral: boolean): { kind: string; id: string; available: boolean } {
    const [kind, value] = queueId.split(/:(.*)/s);
    if (kind === 'general' && allowGeneral) return { kind: 'team', id: '1', available: this.reps.some((r) => r.loggedIn) };
    if (kind === 'team') {
      const team = this.teams.find((t) => t.id === value);
      if (team) return { kind: 'team', id: team.id, available: this.reps.some((r) => r.loggedIn && r.teams.includes(team.id)) };
    }
    if (kind === 'rep' || kind === 'rep_username') {
      const rep = this.reps.find((r) => (kind === 'rep' ? r.id === value : r.username === value));
      if (rep) return { kind: 'rep', id: rep.id, available: rep.loggedIn };
    }
    if (kind === 'issue' && allowGeneral) {
      const team = this.teams.find((t) => t.issues.some((i) => i.codeName === value));
      if (team) return { kind: 'team', id: team.id, available: this.reps.some((r) => r.loggedIn && r.teams.includes(team.id)) };
    }
    throw new XmlError('Invalid queue ID');
  }

  private customParams(p: Record<string, string>): Record<string, string> {
    const custom: Record<string, string> = {};
    let total = 0;
    for (const [k, v] of Object.entries(p)) {
      if (!k.startsWith('session.custom.')) continue;
      const code = k.slice('session.custom.'.length);
      if (!this.customFields.has(code)) throw new XmlError(`Unknown custom field: ${code}`);
      if (v.length > 1024) throw new XmlError(`Custom field ${code} exceeds 1024 characters`);
      total += Buffer.byteLength(v);
      custom[code] = v;
    }
    if (total > 10 * 1024) throw new XmlError('Custom fields exceed 10KB');
    return custom;
  }

  // --- reporting API -------------------------------------------------------------------------------

  private reporting(
    p: Record<string, string>,
    headers: Record<string, string>,
    send: (s: number, t: string, b: string | Buffer, h?: Record<string, string>) => void,
    res: ServerResponse,
    record: RecordedRequest,
  ): void {
    const xml = (root: string, children: string[]) => send(200, 'text/xml; charset=UTF-8', document(root, NS.reporting, children), headers);
    switch (p.generate_report) {
      case 'SupportSession': {
        let sessions: FakeSession[];
        if (p.lsid) sessions = this.sessions.has(p.lsid) ? [this.sessions.get(p.lsid)!] : [];
        else if (p.lsids) sessions = p.lsids.split(',').flatMap((l) => (this.sessions.has(l) ? [this.sessions.get(l)!] : []));
        else sessions = this.window(p);
        return xml(
          'session_list',
          sessions.map((s) => this.sessionXml(s)),
        );
      }
      case 'SupportSessionListing':
        return xml(
          'session_summary_list',
          this.window(p).map((s) =>
            el('session_summary', { lsid: s.lsid, has_recording: s.recordings.session ? '1' : '0', external_key: s.externalKey }, [
              el('lseq', {}, String(s.lseq)),
            ]),
          ),
        );
      case 'SupportSessionSummary': {
        if (!['rep', 'team', 'site'].includes(p.report_type)) throw new XmlError('Invalid report_type');
        const sessions = this.window(p);
        return xml('summary_list', [
          el('summary', { id: '1', type: p.report_type }, [
            el('display_name', {}, 'Service Desk'),
            el('total_sessions', {}, String(sessions.length)),
            el('avg_duration', {}, '00:05:00'),
          ]),
        ]);
      }
      case 'SupportCustExitSurvey':
      case 'SupportRepExitSurvey': {
        const who = p.generate_report === 'SupportCustExitSurvey' ? 'customer' : 'rep';
        // report_type is required with every selection, lsid and lsids included; id only with a time window.
        if (!p.report_type) throw new XmlError('Missing required parameter: report_type');
        if (!['rep', 'team'].includes(p.report_type)) throw new XmlError('Invalid report_type');
        let sessions: FakeSession[];
        if (p.lsid) sessions = this.sessions.has(p.lsid) ? [this.sessions.get(p.lsid)!] : [];
        else if (p.lsids) sessions = p.lsids.split(',').flatMap((l) => (this.sessions.has(l) ? [this.sessions.get(l)!] : []));
        else {
          if (!p.id) throw new XmlError('Missing required parameter: id');
          sessions = this.window(p);
        }
        return xml(
          'exit_survey_list',
          sessions
            .filter((s) => s.surveys[who])
            .map((s) => {
              const owner = s.reps.find((r) => r.owner);
              const team = this.teamOf(s);
              return el('exit_survey', { lsid: s.lsid, ts: s.startTime }, [
                el('session_type', {}, 'support'),
                el('public_site', { id: '1' }, 'Default'),
                el(
                  'submitted_by',
                  { type: who === 'customer' ? 'cust' : 'rep' },
                  who === 'customer' ? s.customer.name : (owner?.rep.displayName ?? ''),
                ),
                el('primary_customer', { id: '0' }, s.customer.name),
                ...(owner ? [el('primary_rep', { id: owner.rep.id }, owner.rep.displayName)] : []),
                ...(team ? [el('primary_team', { id: team.id }, team.name)] : []),
                this.customerListXml(s),
                this.repListXml(s),
                this.teamListXml(s),
                el('rep_resolved', {}, '0'),
                questionList(s.surveys[who]!),
              ]);
            }),
        );
      }
      case 'SupportTeam': {
        const sessions = this.window(p);
        const teams = this.teams.filter((t) => !p.team_id || t.id === p.team_id);
        return xml('team_activity_list', [
          ...this.windowTimes(p),
          ...teams.map((t) =>
            el('team_activity', { id: t.id, name: t.name }, [
              el(
                'logged_in_representatives',
                {},
                this.reps
                  .filter((r) => r.loggedIn && r.teams.includes(t.id))
                  .map((r) =>
                    el('representative', { gsnumber: r.gsnumber, id: r.id }, [
                      el('display_name', {}, r.displayName),
                      el('public_display_name', {}, r.displayName),
                      el('private_display_name', {}, r.displayName),
                    ]),
                  ),
              ),
              el(
                'events',
                {},
                sessions
                  .filter((x) => x.queueId === `team:${t.id}`)
                  .map((x) =>
                    el('event', { timestamp: x.startTime, event_type: 'Session Transferred to Queue' }, [
                      el('performed_by', { gsnumber: '0', type: 'system' }, 'System'),
                      el(
                        'destinations',
                        {},
                        x.reps.map((r) => el('destination', { gsnumber: r.rep.gsnumber }, r.rep.displayName)),
                      ),
                    ]),
                  ),
              ),
            ]),
          ),
        ]);
      }
      case 'PresentationSession':
      case 'PresentationSessionListing': {
        let presentations = [...this.presentations.values()];
        if (p.lsid) presentations = presentations.filter((x) => x.lsid === p.lsid);
        else if (p.lsids) presentations = presentations.filter((x) => p.lsids.split(',').includes(x.lsid));
        else {
          const from = Number(p.start_time ?? p.end_time ?? 0);
          presentations = presentations.filter((x) => (p.end_time ? (x.endTime ?? -1) : x.startTime) >= from);
        }
        if (p.generate_report === 'PresentationSessionListing') {
          return xml(
            'presentation_summary_list',
            presentations.map((x) => el('presentation_summary', { lsid: x.lsid, has_recording: x.recording ? '1' : '0' })),
          );
        }
        return xml(
          'session_list',
          presentations.map((x) => {
            const rep = this.reps.find((r) => r.id === x.presenterId)!;
            return el('session', { lsid: x.lsid }, [
              el('session_type', {}, 'presentation'),
              el('lseq', {}, String(x.lseq)),
              el('start_time', { timestamp: x.startTime }, new Date(x.startTime * 1000).toISOString()),
              x.endTime ? el('end_time', { timestamp: x.endTime }, new Date(x.endTime * 1000).toISOString()) : el('end_time', {}, ''),
              el(
                'attendee_list',
                {},
                x.attendees.map((a, i) =>
                  el('attendee', { gsnumber: String(40 + i) }, [el('username', {}, a.name), el('public_ip', {}, a.ip)]),
                ),
              ),
              el('rep_list', {}, [
                el('representative', { gsnumber: rep.gsnumber, id: rep.id }, [
                  el('username', {}, rep.username),
                  el('public_display_name', {}, rep.displayName),
                  el('private_display_name', {}, rep.displayName),
                ]),
              ]),
              el('session_details', {}, [
                el('event', { timestamp: x.startTime, event_type: 'Presentation Started' }, [
                  el('performed_by', { gsnumber: rep.gsnumber, type: 'representative' }, rep.displayName),
                ]),
              ]),
            ]);
          }),
        );
      }
      case 'LicenseUsage':
        if (!['hour', 'day', 'month'].includes(p.group_by)) throw new XmlError('Invalid group_by');
        return xml('license_usage', [
          ...this.windowTimes(p),
          el('group_by', {}, p.group_by),
          el(
            'license_time_intervals',
            {},
            this.licenseUsage.map((u) =>
              el(
                'license_time_interval',
                { timestamp: u.timestamp, datetime: new Date(u.timestamp * 1000).toISOString() },
                u.counts.map((c) => el('license_count', { license_type: c.type, reason: c.reason }, String(c.count))),
              ),
            ),
          ),
        ]);
      case 'ArchiveListing': {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(p.date ?? '')) throw new XmlError('Invalid date');
        const day = Math.floor(Date.parse(`${p.date}T00:00:00Z`) / 1000);
        const at = (t: number) => new Date(t * 1000).toISOString();
        return xml('archives', [
          el('state_archive', {}, [el('time', { timestamp: day }, at(day)), el('index', {}, '1'), el('event_archive_index', {}, '1')]),
          el('event_archive', {}, [
            el('time', { timestamp: day }, at(day)),
            el('end_time', { timestamp: day + 600 }, at(day + 600)),
            el('index', {}, '1'),
          ]),
        ]);
      }
      case 'PresentationSessionRecording':
      case 'EndpointLicenseUsage': {
        const presentation = p.generate_report === 'PresentationSessionRecording' ? this.presentations.get(p.lsid) : undefined;
        const size = p.generate_report === 'EndpointLicenseUsage' ? 4_096 : presentation?.recording;
        if (size === undefined) throw new XmlError(p.lsid ? 'Recording not found' : 'Missing required parameter: lsid');
        record.status = 200;
        const type = p.generate_report === 'EndpointLicenseUsage' ? 'application/zip' : 'video/x-flv';
        res.writeHead(200, {
          ...headers,
          'content-type': type,
          'content-length': String(size),
          'content-disposition': `attachment; filename="${p.generate_report}.${type === 'application/zip' ? 'zip' : 'flv'}"`,
        });
        return void recordingStream(p.lsid ?? 'license', p.generate_report, 0, size).pipe(res);
      }
      case 'SupportSessionRecording':
      case 'ShowMyScreenRecording':
      case 'CommandShellRecording': {
        if (!p.lsid) throw new XmlError('Missing required parameter: lsid');
        const session = this.sessions.get(p.lsid);
        if (!session) throw new XmlError('Session not found');
        const kind = p.generate_report;
        const instance = Number(p.instance ?? 0);
        const size =
          kind === 'SupportSessionRecording'
            ? session.recordings.session
            : kind === 'ShowMyScreenRecording'
              ? session.recordings.showMyScreen[instance]
              : session.recordings.commandShell[instance];
        if (size === undefined) throw new XmlError('Recording not found');
        if (this.refuseRecordingDownloads > 0) {
          this.refuseRecordingDownloads -= 1;
          throw new XmlError('Recording not found');
        }
        record.status = 200;
        res.writeHead(200, {
          ...headers,
          'content-type': 'video/x-flv',
          'content-length': String(size),
          'content-disposition': `attachment; filename="${kind}-${p.lsid}-${instance}.flv"`,
        });
        return void recordingStream(p.lsid, kind, instance, size, this.stallRecordingsAfter, this.recordingBytesPerSecond).pipe(res);
      }
      case 'Archive': {
        if (!['state', 'event'].includes(p.type)) throw new XmlError('Invalid archive type');
        const lines = p.type === 'event' ? '{"event":"truncate_model"}\n{"event":"model_insert","table":"queue"}\n' : '{"queue":null}';
        return send(200, 'application/x-gzip', gzipSync(lines), headers);
      }
      default:
        throw new XmlError(p.generate_report ? `Invalid report type: ${p.generate_report}` : 'Missing required parameter: generate_report');
    }
  }

  /** The window a report asks for: [from, to) in UNIX seconds, and whether it selects by start or by end. */
  private bounds(p: Record<string, string>): { field: 'start' | 'end'; from: number; to: number } {
    if (p.duration === undefined) throw new XmlError('Missing required parameter: duration');
    const duration = Number(p.duration);
    const fromDate = (d: string) => Math.floor(Date.parse(`${d}T00:00:00Z`) / 1000);
    const [field, from, span] = p.start_time
      ? (['start', Number(p.start_time), duration] as const)
      : p.end_time
        ? (['end', Number(p.end_time), duration] as const)
        : p.start_date
          ? (['start', fromDate(p.start_date), duration * 86400] as const)
          : p.end_date
            ? (['end', fromDate(p.end_date), duration * 86400] as const)
            : (() => {
                throw new XmlError('Missing required parameter: start_date, start_time, end_date or end_time');
              })();
    return { field, from, to: span === 0 ? Infinity : from + span };
  }

  private window(p: Record<string, string>): FakeSession[] {
    const { field, from, to } = this.bounds(p);
    return [...this.sessions.values()].filter((s) => {
      const t = field === 'start' ? s.startTime : s.endTime;
      return t !== undefined && t >= from && t < to;
    });
  }

  /**
   * The root `<start_time>`/`<end_time>` of SupportTeam and LicenseUsage: "in the system time and with a
   * timestamp attribute in UTC". This appliance's system clock runs at UTC-4 and writes no zone.
   */
  private windowTimes(p: Record<string, string>): string[] {
    const { from, to } = this.bounds(p);
    const end = Number.isFinite(to) ? to : NOW();
    const systemTime = (t: number) =>
      new Date((t - 4 * 3600) * 1000)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, '');
    return [el('start_time', { timestamp: from }, systemTime(from)), el('end_time', { timestamp: end }, systemTime(end))];
  }

  private teamOf(s: FakeSession): { id: string; name: string } | undefined {
    return this.teams.find((t) => `team:${t.id}` === s.queueId);
  }

  private customerListXml(s: FakeSession): string {
    return el('customer_list', {}, [
      el('customer', { gsnumber: s.customer.gsnumber }, [
        el('username', {}, s.customer.name),
        el('public_ip', {}, s.customer.ip),
        el('private_ip', {}, '10.0.0.7'),
        el('hostname', {}, s.customer.hostname),
        el('os', {}, s.customer.os),
        el('primary_cust', {}, '1'),
        el('info', {}, [el('name', {}, s.customer.name), ...(s.customer.company ? [el('company', {}, s.customer.company)] : [])]),
      ]),
    ]);
  }

  private repListXml(s: FakeSession): string {
    const owner = s.reps.find((r) => r.owner);
    return el(
      'rep_list',
      {},
      s.reps.map((r) =>
        el('representative', { gsnumber: r.rep.gsnumber, id: r.rep.id }, [
          el('username', {}, r.rep.username),
          el('display_name', {}, r.rep.displayName),
          el('public_display_name', {}, r.rep.displayName),
          el('private_display_name', {}, r.rep.displayName),
          el('display_number', {}, r.rep.displayNumber),
          el('public_ip', {}, '198.51.100.20'),
          el('private_ip', {}, '10.0.0.20'),
          el('hostname', {}, `${r.rep.username}-laptop`),
          el('os', {}, 'Windows 11'),
          el('session_owner', {}, r.owner ? '1' : '0'),
          el('primary_rep', {}, r === owner ? '1' : '0'),
          el('seconds_involved', {}, String(Math.max(0, (s.endTime ?? NOW()) - r.joinedAt))),
          // "Integer value (1) present only if the representative is an invited user."
          ...(r.rep.invited ? [el('invited', {}, '1')] : []),
        ]),
      ),
    );
  }

  private teamListXml(s: FakeSession): string {
    const team = this.teamOf(s);
    return el('team_list', {}, team ? [el('team', { id: team.id, primary_team: '1' }, team.name)] : []);
  }

  private sessionXml(s: FakeSession): string {
    const owner = s.reps.find((r) => r.owner);
    const ended = s.endTime !== undefined;
    const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', '+00:00');
    const hhmmss = (sec: number) =>
      [Math.floor(sec / 3600), Math.floor(sec / 60) % 60, sec % 60].map((n) => String(n).padStart(2, '0')).join(':');
    const custom = Object.entries(s.custom);
    const base = 'https://support.example.com/session_download';
    return el('session', { lsid: s.lsid }, [
      el('session_type', {}, 'support'),
      el('lseq', {}, String(s.lseq)),
      el('start_time', { timestamp: s.startTime }, iso(s.startTime)),
      ended ? el('end_time', { timestamp: s.endTime }, iso(s.endTime!)) : el('end_time', {}, ''),
      el('duration', {}, hhmmss((s.endTime ?? NOW()) - s.startTime)),
      el('public_site', { id: '1' }, 'Default'),
      ...(s.externalKey ? [el('external_key', {}, s.externalKey)] : []),
      ...(custom.length
        ? [
            el(
              'custom_attributes',
              {},
              custom.map(([k, v]) => el('custom_attribute', { display_name: k.replace(/_/g, ' '), code_name: k }, v)),
            ),
          ]
        : []),
      ...(ended
        ? [el('session_chat_view_url', {}, `${base}?lsid=${s.lsid}&view=1`), el('session_chat_download_url', {}, `${base}?lsid=${s.lsid}`)]
        : []),
      ...(ended && s.recordings.session
        ? [
            el('session_recording_view_url', {}, `${base}?lsid=${s.lsid}&rec=1&view=1`),
            el('session_recording_download_url', {}, `${base}?lsid=${s.lsid}&rec=1`),
          ]
        : []),
      ...(ended && s.recordings.showMyScreen.length
        ? [
            el(
              'show_my_screen_recordings',
              {},
              s.recordings.showMyScreen.map((_, i) =>
                el('show_my_screen_recording', { instance: i }, [
                  el('download_url', {}, `${base}?lsid=${s.lsid}&sms=${i}`),
                  el('view_url', {}, `${base}?lsid=${s.lsid}&sms=${i}&view=1`),
                ]),
              ),
            ),
          ]
        : []),
      ...(ended && s.recordings.commandShell.length
        ? [
            el(
              'command_shell_recordings',
              {},
              s.recordings.commandShell.map((_, i) =>
                el('command_shell_recording', { instance: i + this.commandShellNumbering }, [
                  el('download_url', {}, `${base}?lsid=${s.lsid}&sh=${i}`),
                  el('view_url', {}, `${base}?lsid=${s.lsid}&sh=${i}&view=1`),
                ]),
              ),
            ),
          ]
        : []),
      el('file_transfer_count', {}, String(s.events.filter((e) => /^File (Upload|Download)$/.test(e.type)).length)),
      el('file_move_count', {}, '0'),
      el('file_delete_count', {}, '0'),
      el('primary_customer', { gsnumber: s.customer.gsnumber }, s.customer.name),
      ...(owner ? [el('primary_rep', { gsnumber: owner.rep.gsnumber, id: owner.rep.id }, owner.rep.displayName)] : []),
      ...(this.teamOf(s) ? [el('primary_team', { id: this.teamOf(s)!.id }, this.teamOf(s)!.name)] : []),
      this.customerListXml(s),
      this.repListXml(s),
      this.teamListXml(s),
      ...(ended && s.surveys.customer
        ? [el('cust_survey_list', {}, [el('cust_exit_survey', {}, [questionList(s.surveys.customer)])])]
        : []),
      ...(ended && s.surveys.rep ? [el('rep_survey_list', {}, [el('rep_exit_survey', {}, [questionList(s.surveys.rep)])])] : []),
      el('session_details', {}, s.events.map(eventXml)),
    ]);
  }

  private session(lsid: string): FakeSession {
    const s = this.sessions.get(lsid);
    if (!s) throw new XmlError('Session not found');
    return s;
  }

  private activeSession(lsid: string): FakeSession {
    const s = this.session(lsid);
    if (s.endTime !== undefined) throw new XmlError('Session is not active');
    return s;
  }

  private customerOf(s: FakeSession): FakeParticipant {
    return { gsnumber: s.customer.gsnumber, type: 'customer', name: s.customer.name };
  }

  private repOf(rep: FakeRep): FakeParticipant {
    return { gsnumber: rep.gsnumber, type: 'representative', name: rep.displayName };
  }
}

function questionList(answers: Record<string, string>): string {
  return el(
    'question_list',
    {},
    Object.entries(answers).map(([name, answer], i) =>
      el('question', { id: String(i + 1) }, [
        el('name', {}, name),
        el('type', {}, 'text'),
        el('label', {}, name.replace(/_/g, ' ')),
        el('report_header', {}, name),
        el('answer_list', {}, [el('answer', {}, answer)]),
      ]),
    ),
  );
}

/** Characters XML 1.0 cannot carry: the appliance sends such a chat line as `<encoded_body>`. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

function eventXml(e: FakeEvent): string {
  const who = (name: string, p?: FakeParticipant) => (p ? [el(name, { gsnumber: p.gsnumber, type: p.type }, p.name)] : []);
  const body =
    e.body === undefined
      ? []
      : XML_INVALID.test(e.body)
        ? [el('encoded_body', {}, Buffer.from(e.body, 'utf8').toString('base64'))]
        : [el('body', {}, e.body)];
  return el('event', { timestamp: e.timestamp, event_type: e.type }, [
    ...who('performed_by', e.performedBy),
    ...who('destination', e.destination),
    ...body,
    ...(e.filename ? [el('filename', {}, e.filename)] : []),
    ...(e.filesize !== undefined ? [el('filesize', {}, String(e.filesize))] : []),
    ...(e.data
      ? [
          el(
            'data',
            {},
            Object.entries(e.data).map(([name, value]) => el('value', { name, value })),
          ),
        ]
      : []),
    ...(e.systemInformation
      ? [
          el(
            'system_information',
            {},
            e.systemInformation.map((c) =>
              el('category', { name: c.name }, [
                el(
                  'description',
                  {},
                  c.fields.map((f) => el('field', {}, f)),
                ),
                el(
                  'data',
                  {},
                  c.rows.map((r) =>
                    el(
                      'row',
                      {},
                      r.map((f) => el('field', {}, f)),
                    ),
                  ),
                ),
              ]),
            ),
          ),
        ]
      : []),
  ]);
}

/**
 * Streams `size` bytes in 64 KiB chunks, generated as they are read: the fake never holds a recording.
 * Past `stallAfter` bytes it sends nothing more and keeps the connection open (a stalled appliance); with
 * `bytesPerSecond` the chunks are paced to that rate (a slow link).
 */
function recordingStream(lsid: string, kind: string, instance: number, size: number, stallAfter = Infinity, bytesPerSecond = 0): Readable {
  let offset = 0;
  const started = Date.now();
  return new Readable({
    read() {
      if (offset >= stallAfter) return;
      if (offset >= size) return void this.push(null);
      const length = Math.min(64 * 1024, size - offset);
      const chunk = FakeAppliance.recordingBytes(lsid, kind, instance, offset, length);
      offset += length;
      const due = bytesPerSecond > 0 ? started + (offset / bytesPerSecond) * 1000 - Date.now() : 0;
      if (due > 0) setTimeout(() => this.push(chunk), due);
      else this.push(chunk);
    },
  });
}

/** A well-formed XML answer of `bytes` bytes (padding in a comment), generated as it is read. */
function xmlOfSize(bytes: number): Readable {
  const head = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<session_list xmlns="${NS.reporting}"><!--`);
  const tail = Buffer.from('--></session_list>');
  const pad = Buffer.alloc(1024 * 1024, 0x20);
  let sent = 0;
  return new Readable({
    read() {
      if (sent === 0) {
        sent = head.length;
        return void this.push(head);
      }
      const left = bytes - tail.length - sent;
      if (left <= 0) {
        if (sent < bytes) {
          sent = bytes;
          this.push(tail);
        }
        return void this.push(null);
      }
      const chunk = pad.subarray(0, Math.min(pad.length, left));
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
