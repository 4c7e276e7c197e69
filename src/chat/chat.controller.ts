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
  @ApiCall('chat', 'Hand a bot conversation to a live representative (session key, virtual customer, transcript replay)', {
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
  })
  async create(@Body() body: unknown) {
    this.enabled();
    const dto = validatedBody(CreateEscalationDto, body);
    this.callbacks.checkRequest(dto.callbackUrl);
    return view(await this.chat.escalate(dto));
  }

  @Get(':id')
  @ApiCall('chat', 'The escalation: state (queued, active, ended) and representatives present')
  async get(@Param('id') id: string) {
    this.enabled();
    const escalation = await this.chat.get(id);
    return view(escalation, this.realtime.estimatedPickup(escalation.lsid));
  }

  @Post(':id/messages')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiCall('chat', "Relay the customer's line into the session (BBCode escaped unless formatted)", {
    schema: 'ChatMessageDto',
    example: { text: 'It is still smoking' },
  })
  async message(@Param('id') id: string, @Body() body: unknown) {
    this.enabled();
    await this.chat.send(id, validatedBody(ChatMessageDto, body));
    return { sent: true };
  }

  @Delete(':id')
  @ApiCall('chat', 'The customer leaves (idempotent); the session ends and escalation.ended follows')
  async leave(@Param('id') id: string) {
    this.enabled();
    return view(await this.chat.leave(id));
  }
}
