import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiCall } from '../http/api-docs';
import { Type } from 'class-transformer';
import { IsBoolean, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { ApiError } from '../common/api-error';
import { BodyName, IsPresent, validatedBody } from '../common/validated-body';
import { UpscopeError } from '../upscope/upscope.client';
import { UpscopeService } from '../upscope/upscope.service';
import { ApiAuth } from '../http/api-token.guard';

class VisitorQueryDto {
  @IsOptional() @IsString() @MaxLength(64) id?: string;
  @IsOptional() @Matches(/^\w{1,32}$/, { message: 'visitor.lookupCode must be the code the customer reads out' }) lookupCode?: string;
  @IsOptional() @IsString() @MaxLength(255) email?: string;
  @IsOptional() @IsString() @MaxLength(255) query?: string;
}

class AgentDto {
  @IsString({ message: 'agent.id is required' }) @MaxLength(128) id!: string;
  @IsString({ message: 'agent.name is required' }) @MaxLength(255) name!: string;
}

@BodyName('The co-browse watch URL body')
export class WatchUrlRequestDto {
  @IsPresent('visitor is required') @ValidateNested() @Type(() => VisitorQueryDto) visitor!: VisitorQueryDto;
  @IsPresent('agent is required') @ValidateNested() @Type(() => AgentDto) agent!: AgentDto;
  /** Upscope permission name → allowed, over UPSCOPE_PERMISSIONS. */
  @IsOptional() @IsObject() permissions?: Record<string, boolean>;
  @IsOptional() @IsObject() metadata?: Record<string, unknown>;
  @IsOptional() @IsBoolean() naked?: boolean;
}

const STATUS: Record<UpscopeError['kind'], HttpStatus> = {
  not_found: HttpStatus.NOT_FOUND,
  unauthorized: HttpStatus.BAD_GATEWAY,
  refused: HttpStatus.BAD_GATEWAY,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

/** For bots and in-ticket buttons: a visitor query and an agent in, a watch URL out. */
@ApiAuth()
@Controller('api/v1/cobrowse')
export class WatchUrlController {
  constructor(private readonly upscope: UpscopeService) {}

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
    if (!this.upscope.configured)
      throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', 'Co-browsing is not configured (set UPSCOPE_BASE_URL)');
    const request = validatedBody(WatchUrlRequestDto, body);
    const v = request.visitor;
    if (!v.id && !v.lookupCode && !v.email && !v.query)
      throw new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', 'visitor needs id, lookupCode, email or query');
    try {
      const { visitor, searched } = await this.upscope.find({ visitorId: v.id, lookupCode: v.lookupCode, email: v.email, query: v.query });
      if (!visitor) throw new ApiError(HttpStatus.NOT_FOUND, 'visitor_not_found', `No Upscope visitor matches ${searched}`);
      const watchUrl = await this.upscope.watchUrl(visitor, request.agent, request.metadata ?? {}, request.permissions ?? {});
      return { watchUrl, visitor: { shortId: visitor.shortId, name: visitor.name, email: visitor.email, online: visitor.online } };
    } catch (error) {
      if (error instanceof UpscopeError) throw new ApiError(STATUS[error.kind], `upscope_${error.kind}`, error.message);
      throw error;
    }
  }
}
