import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { ApiCall } from '../http/api-docs';
import { CallbackTargets } from '../outbound/callback-targets';
import { validatedBody } from '../common/validated-body';
import { ChatMessageDto, CreateEscalationDto } from './chat.dto';
import { ChatRealtimeService } from './chat-realtime.service';
import { ChatService } from './chat.service';
import { Escalation } from './escalation.store';
import { ApiAuth } from '../http/api-token.guard';

const view = (e: Escalation, estimatedPickupAt?: string) => ({
  id: e.id,
  lsid: e.lsid,
  state: e.state,
  representatives: e.representatives,
  owner: e.owner,
  externalKey: e.externalKey,
  queue: e.queueId,
  downloadUrl: e.downloadUrl,
  createdAt: e.createdAt,
  ticket: e.ticket,
  // From the Real-Time State API (BT_REALTIME_ENABLED), while the session waits in a queue.
  ...(e.state === 'queued' && estimatedPickupAt ? { estimatedPickupAt } : {}),
});

const ESCALATION_EXAMPLE = {
  id: 'esc_7Qm2',
  lsid: 'c3e1a9d04b2f4a6e',
  state: 'queued',
  representatives: [],
  externalKey: 'chat-esc_7Qm2',
  queue: 'general',
  downloadUrl: 'https://support.example.com/download_client_connector?session.sessionKey=abc',
  createdAt: '2026-11-23T10:00:06Z',
  ticket: { system: 'zendesk', id: '1042', number: '1042' },
};

/** The bot API (bearer token): escalate, relay the customer's lines, look, leave. */
@ApiAuth()
@Controller('api/v1/chat/escalations')
export class ChatController {
  constructor(
    private readonly chat: ChatService,
    private readonly realtime: ChatRealtimeService,
    private readonly callbacks: CallbackTargets,
  ) {}

  private enabled(): void {
    if (!this.chat.enabled)
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'not_found',
        'Chat escalations are not configured (set RSB_CALLBACK_SECRET and BT_SITE_URL)',
      );
  }

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiCall(
    'chat',
    'Hand a bot conversation to a live representative (session key, virtual customer, transcript replay)',
    { status: 201, description: 'The escalation, queued', schema: 'Escalation', example: ESCALATION_EXAMPLE },
    {
      errors: {
        400: true,
        404: 'Chat is not configured (RSB_CALLBACK_SECRET, BT_SITE_URL)',
        422: 'The appliance refused',
        504: 'The session did not appear in the reports in time (RSB_CHAT_LSID_TIMEOUT_MS)',
        503: 'The appliance is unavailable',
      },
      body: {
        schema: 'CreateEscalationDto',
        example: {
          customer: { name: 'Casey Customer', ipAddress: '203.0.113.7', operatingSystem: 'Windows 11', computerName: 'CASEY-PC' },
          callbackUrl: 'https://bot.example.com/rs-bridge',
          ticket: { system: 'zendesk', id: '1042' },
          transcript: [
            { from: 'customer', text: 'My printer is on fire', at: '2026-11-23T10:00:00Z' },
            { from: 'bot', text: 'Let me get you a human', at: '2026-11-23T10:00:05Z' },
          ],
        },
      },
    },
  )
  async create(@Body() body: unknown) {
    this.enabled();
    const dto = validatedBody(CreateEscalationDto, body);
    this.callbacks.checkRequest(dto.callbackUrl);
    return view(await this.chat.escalate(dto));
  }

  @Get(':id')
  @ApiCall(
    'chat',
    'The escalation: state (queued, active, ended) and representatives present',
    { status: 200, description: 'The escalation', schema: 'Escalation', example: ESCALATION_EXAMPLE },
    { errors: { 404: 'No such escalation, or chat is not configured' } },
  )
  async get(@Param('id') id: string) {
    this.enabled();
    const escalation = await this.chat.get(id);
    return view(escalation, this.realtime.estimatedPickup(escalation.lsid));
  }

  @Post(':id/messages')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiCall(
    'chat',
    "Relay the customer's line into the session (BBCode escaped unless formatted)",
    { status: 202, description: 'Sent into the session', schema: 'MessageSent', example: { sent: true } },
    {
      errors: {
        400: true,
        404: 'No such escalation, or chat is not configured',
        409: 'The escalation has ended',
        503: 'The appliance is unavailable',
      },
      body: { schema: 'ChatMessageDto', example: { text: 'It is still smoking' } },
    },
  )
  async message(@Param('id') id: string, @Body() body: unknown) {
    this.enabled();
    await this.chat.send(id, validatedBody(ChatMessageDto, body));
    return { sent: true };
  }

  @Delete(':id')
  @ApiCall(
    'chat',
    'The customer leaves (idempotent); the session ends and escalation.ended follows',
    { status: 200, description: 'The escalation, ended', schema: 'Escalation', example: { ...ESCALATION_EXAMPLE, state: 'ended' } },
    { errors: { 404: 'No such escalation, or chat is not configured', 503: 'The appliance is unavailable' } },
  )
  async leave(@Param('id') id: string) {
    this.enabled();
    return view(await this.chat.leave(id));
  }
}
