import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { TICKET_ACTIONS, TicketAction } from '../config/rules';
import { TicketRequestError } from './ticket-request.errors';

export const ACTION_MESSAGE = `action must be one of ${TICKET_ACTIONS.join(', ')}`;

/** Who works the ticket: the agent a co-browse watch URL is made for. */
export class AssigneeDto {
  @IsOptional() @IsString() @MaxLength(128) id?: string;
  @IsOptional() @IsString() @MaxLength(255) name?: string;
}

/** The assignee when the body names one, by id or name (job data carries no empty objects). */
export const assigneeOf = (dto?: AssigneeDto): { id?: string; name?: string } | undefined =>
  dto?.name || dto?.id ? { id: dto.id, name: dto.name } : undefined;

/** The requester's name and email, when the body has a requester. */
export const requesterOf = (dto?: { name?: string; email?: string }): { name?: string; email?: string } | undefined =>
  dto ? { name: dto.name, email: dto.email } : undefined;

export const JUMP_METHODS = ['push', 'rdp', 'shell', 'vnc', 'jump_item'] as const;

/**
 * What a co-browse or Jump request is aimed at. Co-browse: an Upscope visitor by short id, lookup code,
 * email or any Upscope search. Jump: a host (name or IP), a Jump Client search string, or a Jump Item by
 * tag or comment.
 */
export class RequestTargetDto {
  @IsOptional() @IsString() @MaxLength(64) visitorId?: string;
  @IsOptional() @Matches(/^\w{1,32}$/, { message: 'target.lookupCode must be the code the customer reads out' }) lookupCode?: string;
  @IsOptional() @IsString() @MaxLength(255) email?: string;
  @IsOptional() @IsString() @MaxLength(255) query?: string;
  @IsOptional() @IsString() @MaxLength(255) hostname?: string;
  @IsOptional() @IsString() @MaxLength(64) ip?: string;
  @IsOptional() @IsString() @MaxLength(255) jumpClient?: string;
  @IsOptional() @IsString() @MaxLength(255) jumpItemTag?: string;
  @IsOptional() @IsString() @MaxLength(255) jumpItemComment?: string;
  @IsOptional()
  @IsIn(JUMP_METHODS, { message: `target.method must be one of ${JUMP_METHODS.join(', ')}` })
  method?: (typeof JUMP_METHODS)[number];
  @IsOptional() @IsString() @MaxLength(128) jumpoint?: string;
  @IsOptional() @IsString() @MaxLength(128) username?: string;
}

export type RequestTarget = Omit<RequestTargetDto, never>;

/** The target's set values only (so job data stays small and templates see no empty keys). */
export function targetOf(dto?: RequestTargetDto): RequestTarget | undefined {
  if (!dto) return undefined;
  const out = Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined && v !== '')) as RequestTarget;
  return Object.keys(out).length ? out : undefined;
}

/** What an action needs beyond the body's shape; a 400 names what is missing, and nothing is enqueued. */
export function checkAction(event: { action: TicketAction; target?: RequestTarget }, enabled: { upscope: boolean }): void {
  const action: TicketAction = event.action;
  if (action === 'cobrowse.requested' && !enabled.upscope)
    throw new TicketRequestError(
      'invalid',
      'validation_failed',
      'cobrowse.requested needs Upscope, which is not configured (UPSCOPE_BASE_URL)',
    );
  const t = event.target ?? {};
  if (action === 'jump.requested' && !(t.hostname || t.ip || t.jumpClient || t.jumpItemTag || t.jumpItemComment))
    throw new TicketRequestError(
      'invalid',
      'validation_failed',
      'jump.requested needs target.hostname, target.ip, target.jumpClient, target.jumpItemTag or target.jumpItemComment',
    );
}
