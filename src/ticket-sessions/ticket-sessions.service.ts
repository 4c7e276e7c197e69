import { InjectQueue } from '@nestjs/bullmq';
import { HttpStatus, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { ChatRealtimeService } from '../chat/chat-realtime.service';
import { CobrowseOutcome, CobrowseService } from '../cobrowse/cobrowse.service';
import { JumpOutcome, JumpService } from '../sessions/jump.service';
import { TICKET_SYSTEMS, TicketSystemName } from '../config/rules';
import { ApiError } from '../common/api-error';
import { QUEUES } from '../jobs/queues';
import { ArtifactStore, SessionState, SessionStateStore } from '../session-end/session-stores';
import { TicketSessionsStore } from '../session-end/ticket-sessions.store';
import { LinkStore, SessionLink } from '../sessions/link.store';
import { checkAction, targetOf } from '../tickets/request-target';
import { TicketEvent } from '../tickets/ticket-event';
import { TicketsService } from '../tickets/tickets.service';
import { UpscopeService } from '../upscope/upscope.service';
import {
  FailureDto,
  RecordingWrittenDto,
  TicketActionRequestDto,
  TicketRefDto,
  TicketSessionDto,
  TicketSessionsDto,
  WrittenBackDto,
} from './ticket-sessions.dto';

/** How far a session may start before the key it used was recorded (the appliance's clock, in seconds). */
const CLOCK_SLACK_MS = 5 * 60_000;

interface KnownSession {
  lsid: string;
  state: SessionState;
  artifacts: Record<string, string>;
}

/**
 * What an agent sees and starts from the ticket: the ticket's keys, Jump links and sessions with their
 * state and what was written back, and the synchronous Jump and co-browse actions. It reads the stores
 * the flows already keep (links, session state from outbound events, artifacts, the session-end queues);
 * it writes nothing itself.
 */
@Injectable()
export class TicketSessionsService {
  constructor(
    private readonly tickets: TicketsService,
    private readonly links: LinkStore,
    private readonly ticketSessions: TicketSessionsStore,
    private readonly states: SessionStateStore,
    private readonly artifacts: ArtifactStore,
    private readonly realtime: ChatRealtimeService,
    private readonly jumps: JumpService,
    private readonly cobrowse: CobrowseService,
    private readonly upscope: UpscopeService,
    @InjectQueue(QUEUES.sessionEnd) private readonly pulls: Queue,
    @InjectQueue(QUEUES.recordings) private readonly recordings: Queue,
  ) {}

  /** The number an agent sees (Zendesk id, ServiceNow INC number or sys_id) → the ticket the stores know. */
  async resolve(system: string, ticketId: string): Promise<TicketRefDto & { system: TicketSystemName }> {
    if (!(TICKET_SYSTEMS as readonly string[]).includes(system) || !this.tickets.enabled(system as TicketSystemName))
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'not_found',
        `Ticket system "${system}" is not configured (configured: ${TICKET_SYSTEMS.filter((s) => this.tickets.enabled(s)).join(', ') || 'none'})`,
      );
    const name = system as TicketSystemName;
    const found = await this.tickets.requireWriter(name).lookUpTicket(ticketId);
    if ('invalid' in found)
      throw new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', `"${ticketId}" is not a ${name} ticket number or id`);
    if ('missing' in found) throw new ApiError(HttpStatus.NOT_FOUND, 'ticket_not_found', found.missing);
    return { system: name, ...found.ticket };
  }

  async view(system: string, ticketId: string): Promise<TicketSessionsDto> {
    const ticket = await this.resolve(system, ticketId);
    const [links, lsids] = await Promise.all([
      this.links.byTicket(ticket.system, ticket.id),
      this.ticketSessions.lsids(ticket.system, ticket.id),
    ]);
    const known: KnownSession[] = await Promise.all(
      lsids.map(async (lsid) => ({ lsid, state: await this.states.get(lsid), artifacts: await this.artifacts.done(lsid) })),
    );
    // Auto-created tickets are linked by lsid, not by a key anyone was given.
    const issued = links.filter((l) => l.shortKey || l.failure || !l.externalKey.startsWith('lsid:'));
    const pairs = this.pair(known, issued);

    const items: TicketSessionDto[] = [];
    for (const session of known) items.push(await this.sessionItem(session, pairs.get(session.lsid)));
    const claimed = new Set(pairs.values());
    for (const link of issued) if (!claimed.has(link)) items.push(this.linkItem(link));
    // A session from a key sorts where its key does: the appliance's clock may lag ours by a second.
    const when = (i: TicketSessionDto) => Date.parse(i.createdAt ?? i.startedAt ?? '') || 0;
    items.sort((a, b) => when(b) - when(a));
    const open = items.some((i) => i.state === 'waiting' || i.state === 'in_progress' || (i.state === 'key_issued' && !i.expired));
    return { ticket: { system: ticket.system, id: ticket.id, number: ticket.number }, sessions: items, open };
  }

  /**
   * Which key or Jump link each session came from. Keys for one ticket usually share its external key,
   * so each session, oldest first, takes the newest key with its external key issued before it started.
   */
  private pair(sessions: KnownSession[], links: SessionLink[]): Map<string, SessionLink> {
    const pairs = new Map<string, SessionLink>();
    const taken = new Set<SessionLink>();
    const start = (s: KnownSession) => Date.parse(s.state.startedAt ?? '') || Number.MAX_SAFE_INTEGER;
    for (const session of [...sessions].sort((a, b) => start(a) - start(b))) {
      const link = links.find(
        (l) =>
          !taken.has(l) &&
          !l.failure &&
          l.externalKey === session.state.externalKey &&
          (!session.state.startedAt || Date.parse(l.createdAt) <= start(session) + CLOCK_SLACK_MS),
      );
      if (!link) continue;
      taken.add(link);
      pairs.set(session.lsid, link);
    }
    return pairs;
  }

  private linkItem(link: SessionLink): TicketSessionDto {
    if (link.failure)
      return {
        kind: 'session_key',
        state: 'failed',
        createdAt: link.createdAt,
        failures: [{ step: 'session_key', reason: link.failure, retrying: false }],
      };
    const expired = link.expiresAt ? Date.parse(link.expiresAt) < Date.now() : undefined;
    return {
      kind: link.shortKey ? 'session_key' : 'jump',
      state: 'key_issued',
      externalKey: link.externalKey || undefined,
      shortKey: link.shortKey || undefined,
      keyUrl: link.keyUrl,
      expiresAt: link.expiresAt,
      expired,
      queue: link.queue,
      createdAt: link.createdAt,
      failures: [],
    };
  }

  private async sessionItem({ lsid, state, artifacts }: KnownSession, link?: SessionLink): Promise<TicketSessionDto> {
    const representatives = (state.members ?? '').split(',').filter(Boolean);
    const representative = state.owner || representatives[0] || undefined;
    const ended = state.state === 'ended' || Boolean(artifacts.note);
    const status = ended ? 'ended' : representative ? 'in_progress' : 'waiting';
    const started = Date.parse(state.startedAt ?? '');
    const finished = Date.parse(state.endedAt ?? '');
    return {
      kind: link ? (link.shortKey ? 'session_key' : 'jump') : 'session',
      state: status,
      lsid,
      externalKey: state.externalKey ?? link?.externalKey,
      shortKey: link?.shortKey || undefined,
      keyUrl: link?.keyUrl,
      expiresAt: link?.expiresAt,
      queue: link?.queue,
      estimatedPickupAt: status === 'waiting' ? this.realtime.estimatedPickup(lsid) : undefined,
      representative,
      representatives: representatives.length ? representatives : undefined,
      createdAt: link?.createdAt,
      startedAt: state.startedAt,
      endedAt: state.endedAt,
      durationSeconds: ended && started && finished ? Math.max(0, Math.round((finished - started) / 1000)) : undefined,
      writtenBack: this.writtenBack(artifacts),
      failures: await this.failures(lsid, artifacts),
    };
  }

  private writtenBack(artifacts: Record<string, string>): WrittenBackDto {
    const parse = (raw: string | undefined): Record<string, unknown> => {
      try {
        const value: unknown = JSON.parse(raw ?? '{}');
        return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };
    const recordings: RecordingWrittenDto[] = [];
    for (const [artifact, raw] of Object.entries(artifacts)) {
      const match = /^recording:(\w+):(\d+)$/.exec(artifact);
      if (!match) continue;
      const record = parse(raw);
      const files = Array.isArray(record.attached) ? (record.attached as string[]) : undefined;
      recordings.push({
        kind: match[1],
        instance: Number(match[2]),
        result: files ? 'attached' : 'linked',
        files,
        at: typeof record.at === 'string' ? record.at : undefined,
      });
    }
    const parts = parse(artifacts.note).parts;
    return {
      transcriptNote: Boolean(artifacts.note || artifacts['note.1']),
      noteParts: typeof parts === 'number' ? parts : undefined,
      surveys: ['customer', 'rep'].filter((who) => artifacts[`survey:${who}`]),
      recordings: recordings.sort((a, b) => a.kind.localeCompare(b.kind) || a.instance - b.instance),
    };
  }

  /** The session-end pull and the recording transfers that failed, with the reason the job kept. */
  private async failures(lsid: string, artifacts: Record<string, string>): Promise<FailureDto[]> {
    const out: FailureDto[] = [];
    const pull = await this.pulls.getJob(`pull-${lsid}`);
    if (pull?.failedReason) {
      const state = await pull.getState();
      if (state !== 'completed') out.push({ step: 'transcript', reason: pull.failedReason, retrying: state !== 'failed' });
    }
    const queued = (pull?.returnvalue as { recordingsQueued?: string[] } | undefined)?.recordingsQueued ?? [];
    for (const artifact of queued) {
      if (artifacts[artifact]) continue;
      const [, kind, instance] = artifact.split(':');
      const job = await this.recordings.getJob(`rec-${lsid}-${kind}-${instance}`);
      if (!job?.failedReason) continue;
      const state = await job.getState();
      if (state !== 'completed') out.push({ step: artifact, reason: job.failedReason, retrying: state !== 'failed' });
    }
    return out;
  }

  /** A Jump link for the ticket now, written to it once as the webhook flow does. */
  async jump(system: string, ticketId: string, body: TicketActionRequestDto, idempotencyKey?: string): Promise<JumpOutcome> {
    const event = await this.event(system, ticketId, body, 'jump.requested', idempotencyKey);
    checkAction(event, { upscope: true });
    return this.jumps.handle(event);
  }

  /** A co-browse watch URL for the ticket's requester (or the given visitor) and the agent, noted once on the ticket. */
  async cobrowseFor(system: string, ticketId: string, body: TicketActionRequestDto, idempotencyKey?: string): Promise<CobrowseOutcome> {
    if (!this.upscope.configured)
      throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', 'Co-browsing is not configured (set UPSCOPE_BASE_URL)');
    const event = await this.event(system, ticketId, body, 'cobrowse.requested', idempotencyKey);
    const t = event.target ?? {};
    if (!t.visitorId && !t.lookupCode && !t.email && !t.query && !event.ticket.requester?.email)
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'validation_failed',
        "co-browse needs the requester's email or target.visitorId, target.lookupCode, target.email or target.query",
      );
    return this.cobrowse.handle(event);
  }

  private async event(
    system: string,
    ticketId: string,
    body: TicketActionRequestDto,
    action: TicketEvent['action'],
    idempotencyKey?: string,
  ): Promise<TicketEvent> {
    if (idempotencyKey !== undefined && !/^[\w.:-]{1,128}$/.test(idempotencyKey))
      throw new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', 'Idempotency-Key must be 1-128 letters, digits or . : _ -');
    const ticket = await this.resolve(system, ticketId);
    return {
      system: ticket.system,
      // Scoped to the ticket: the same Idempotency-Key sent for another ticket is another request.
      deliveryId: `api.${action}.${ticket.id}.${idempotencyKey ?? randomUUID()}`,
      action,
      target: targetOf(body.target),
      assignee: body.agent,
      callbackUrl: body.callbackUrl,
      ticket: {
        id: ticket.id,
        number: body.number ?? ticket.number,
        url: body.url,
        subject: body.subject,
        requester: body.requester,
        tags: body.tags ?? [],
        fields: {},
      },
    };
  }
}
