import { BodyName } from '../common/validated-body';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, MaxLength, ValidateNested } from 'class-validator';
import { AssigneeDto, RequestTargetDto } from '../tickets/request-target';

/*
 * The answer of GET /api/v1/tickets/{system}/{ticketId}/sessions. These classes are never validated:
 * their decorators are what the OpenAPI document's response schema is generated from (like the request
 * DTOs), so the schema and the code cannot drift apart.
 */

/** failed: the appliance refused to create the key (the reason is in failures). */
export const VIEW_STATES = ['key_issued', 'waiting', 'in_progress', 'ended', 'failed'] as const;
export type ViewState = (typeof VIEW_STATES)[number];

export class TicketRefDto {
  @IsIn(['zendesk', 'servicenow', 'jira', 'generic']) system!: string;
  /** The id the system's API uses (Zendesk id, ServiceNow sys_id). */
  @IsString() id!: string;
  /** The number agents see, when known (a ServiceNow INC number asked for by number). */
  @IsString() number!: string;
}

export class RecordingWrittenDto {
  @IsIn(['session', 'showMyScreen', 'commandShell']) kind!: string;
  @IsInt() instance!: number;
  /** attached: the file is on the ticket; linked: the appliance's links were written (too large, or no attachments). */
  @IsIn(['attached', 'linked']) result!: 'attached' | 'linked';
  @IsOptional() @IsString({ each: true }) files?: string[];
  @IsOptional() @IsString() at?: string;
}

export class WrittenBackDto {
  /** The transcript note (with the transcript file) is on the ticket. */
  @IsBoolean() transcriptNote!: boolean;
  @IsOptional() @IsInt() noteParts?: number;
  @IsString({ each: true }) surveys!: string[];
  @ValidateNested({ each: true }) @Type(() => RecordingWrittenDto) recordings!: RecordingWrittenDto[];
}

export class FailureDto {
  /** What failed: session_key (the appliance refused the key), transcript, or recording:<kind>:<instance>. */
  @IsString() step!: string;
  @IsString() reason!: string;
  /** Whether rs-bridge is still retrying (false: it gave up; an operator can retry it from the admin API). */
  @IsBoolean() retrying!: boolean;
}

export class TicketSessionDto {
  /** session_key: a key given to the customer; jump: a Jump link for the representative; session: a session without either. */
  @IsIn(['session_key', 'jump', 'session']) kind!: string;
  @IsIn(VIEW_STATES) state!: ViewState;
  @IsOptional() @IsString() lsid?: string;
  @IsOptional() @IsString() externalKey?: string;
  @IsOptional() @IsString() shortKey?: string;
  @IsOptional() @IsString() keyUrl?: string;
  @IsOptional() @IsString() expiresAt?: string;
  /** key_issued: the key's expiry has passed without a session. */
  @IsOptional() @IsBoolean() expired?: boolean;
  @IsOptional() @IsString() queue?: string;
  /** waiting, with BT_REALTIME_ENABLED (and chat, RSB_CALLBACK_SECRET): when the appliance expects a representative to pick it up. */
  @IsOptional() @IsString() estimatedPickupAt?: string;
  /** in_progress and ended: the owning representative. */
  @IsOptional() @IsString() representative?: string;
  @IsOptional() @IsString({ each: true }) representatives?: string[];
  @IsOptional() @IsString() createdAt?: string;
  @IsOptional() @IsString() startedAt?: string;
  @IsOptional() @IsString() endedAt?: string;
  @IsOptional() @IsInt() durationSeconds?: number;
  @IsOptional() @ValidateNested() @Type(() => WrittenBackDto) writtenBack?: WrittenBackDto;
  @IsArray() @ValidateNested({ each: true }) @Type(() => FailureDto) failures!: FailureDto[];
}

export class TicketSessionsDto {
  @ValidateNested() @Type(() => TicketRefDto) ticket!: TicketRefDto;
  /** Newest first. */
  @IsArray() @ValidateNested({ each: true }) @Type(() => TicketSessionDto) sessions!: TicketSessionDto[];
  /** Whether a key may still be used or a session is running: a view should refresh while it is true. */
  @IsBoolean() open!: boolean;
}

class TicketRequesterDto {
  @IsOptional() @IsString() @MaxLength(255) name?: string;
  @IsOptional() @IsString() @MaxLength(255) email?: string;
}

/** What an in-ticket button knows when it asks for a Jump link or a co-browse. */
@BodyName('The ticket action body')
export class TicketActionRequestDto {
  /** The number agents see, for notes and templates (defaults to the ticket id). */
  @IsOptional() @IsString() @MaxLength(128) number?: string;
  @IsOptional() @IsString() url?: string;
  @IsOptional() @IsString() @MaxLength(1024) subject?: string;
  @IsOptional() @ValidateNested() @Type(() => TicketRequesterDto) requester?: TicketRequesterDto;
  @IsOptional() @IsString({ each: true }) tags?: string[];
  /** Jump: the host or Jump Item; co-browse: the visitor (defaults to the requester's email). */
  @IsOptional() @ValidateNested() @Type(() => RequestTargetDto) target?: RequestTargetDto;
  /** Co-browse: the agent the watch URL is made for. */
  @IsOptional() @ValidateNested() @Type(() => AssigneeDto) agent?: AssigneeDto;
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'callbackUrl must be an http(s) URL' })
  callbackUrl?: string;
}
