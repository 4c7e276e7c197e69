import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiCall } from '../http/api-docs';
import { CobrowseService } from './cobrowse.service';
import { ApiAuth } from '../http/api-token.guard';

/** For bots and in-ticket buttons: a visitor query and an agent in, a watch URL out. */
@ApiAuth()
@Controller('api/v1/cobrowse')
export class WatchUrlController {
  constructor(private readonly cobrowse: CobrowseService) {}

  @ApiCall(
    'cobrowse',
    'An Upscope watch URL for a visitor and an agent',
    {
      status: 201,
      description: 'The watch URL and the visitor found',
      schema: 'WatchUrl',
      example: {
        watchUrl: 'https://app.upscope.io/w/abc123',
        visitor: { shortId: 'casey01', name: 'Casey Customer', email: 'casey@example.com', online: true },
      },
    },
    {
      errors: {
        400: true,
        404: 'Co-browsing not configured, or no visitor matches (visitor_not_found)',
        502: 'Upscope refused',
        503: 'Upscope is unavailable',
      },
      body: { schema: 'WatchUrlRequestDto', example: { visitor: { email: 'casey@example.com' }, agent: { id: '42', name: 'Ada Agent' } } },
    },
  )
  @Post('watch-urls')
  @HttpCode(HttpStatus.CREATED)
  async create(@Body() body: unknown) {
    return this.cobrowse.watchUrl(body);
  }
}
