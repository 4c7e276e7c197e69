import { Body, Controller, Headers, HttpCode, HttpStatus, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ref } from '../http/api-docs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { countWebhook, refuseSpentWebhookBudget } from '../http/flood-guard';
import type { IncomingHttpHeaders } from 'node:http';
import { RouteConfig } from '@nestjs/platform-fastify';
import { BodyRouteConfig, FORM_TYPE, JSON_TYPE } from '../http/body-parsing';
import { OutboundEventsService } from '../session-end/outbound-events.service';

/** The appliance's outbound events: the HTTP recipient, one call on `OutboundEventsService`. */
@Controller('webhooks')
export class BeyondTrustWebhookController {
  constructor(private readonly events: OutboundEventsService) {}

  @ApiTags('webhooks')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({
    summary: "The appliance's outbound events (session end, surveys, session state)",
    description:
      'Authenticated by BT_EVENTS_TOKEN in the token query parameter of the HTTP recipient URL (the appliance cannot sign or add headers), or in X-RSB-Events-Token from a proxy; sources may be limited by BT_EVENTS_ALLOWED_IPS. See docs/beyondtrust.md.',
  })
  @ApiSecurity('beyondtrustToken')
  @ApiSecurity('beyondtrustTokenHeader')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['event'],
      properties: {
        event: { type: 'string', example: 'support_conference_end' },
        version: { type: 'string' },
        timestamp: { type: 'string', description: 'UNIX seconds' },
        appliance_id: { type: 'string' },
        lsid: { type: 'string' },
        external_key: { type: 'string' },
      },
    },
  })
  @ApiResponse({
    status: 200,
    description: 'Stored durably, or authenticated but unusable (ignored, counted)',
    content: { 'application/json': { schema: ref('OutboundEventAnswer'), example: { ok: true, jobId: 'c0ffee42' } } },
  })
  @ApiErrors({
    401: 'Token missing or wrong',
    403: 'Source outside BT_EVENTS_ALLOWED_IPS',
    404: 'Outbound events are not enabled (BT_EVENTS_TOKEN unset)',
    429: true,
    503: 'Redis unavailable: the appliance sends it again',
  })
  @Post('beyondtrust')
  @RouteConfig({ consumes: [FORM_TYPE, JSON_TYPE] } satisfies BodyRouteConfig)
  @HttpCode(HttpStatus.OK)
  async receive(
    @Req() req: FastifyRequest,
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @Headers() headers: IncomingHttpHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    // The token is checked inside the work, so the appliance's own events are counted by their answer
    // (flood-guard.ts): refused at once here when they spent the address's allowance.
    await refuseSpentWebhookBudget(req, reply);
    // The appliance posts only its own variables: the token comes in the recipient URL (or from a proxy's header).
    const token = [query.token, headers['x-rsb-events-token']].find((v) => typeof v === 'string') as string | undefined;
    try {
      return await this.events.receive({ source: req.ip, token, body });
    } catch (error) {
      // Who sent it was refused: counted apart, so it never spends the appliance's allowance.
      if (error instanceof ApiError && [401, 403, 404].includes(error.getStatus())) await countWebhook(req, reply, 'rejected');
      throw error;
    }
  }
}
