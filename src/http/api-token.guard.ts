import { applyDecorators, CanActivate, ExecutionContext, HttpStatus, Inject, Injectable, OnModuleInit, SetMetadata } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { ApiError } from '../common/api-error';

const API_AUTH = 'rsb:api-auth';

/** Route templates under this prefix are the bearer-token API. */
const API_TEMPLATE = /^\/?api(\/|$)/;

/**
 * Marks a controller (or one handler) as the bearer-token API: ApiTokenGuard demands a token from
 * RSB_API_TOKENS before its handlers run. Every controller under `api/` must carry it (checked at boot).
 */
export const ApiAuth = (): ClassDecorator & MethodDecorator => applyDecorators(SetMetadata(API_AUTH, true), ApiBearerAuth());

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * The SHA-256 of the bearer token an Authorization header carries when it is one of `tokens` (digests),
 * else undefined. Compared in constant time against every token, so neither the length nor the position
 * of a match leaks through timing.
 */
export function knownBearerToken(authorization: string | undefined, tokens: Buffer[]): Buffer | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const presented = digest(match[1]);
  let ok = false;
  for (const token of tokens) ok = timingSafeEqual(presented, token) || ok;
  return ok ? presented : undefined;
}

export const tokenDigests = (tokens: string[]): Buffer[] => tokens.map(digest);

/**
 * The bearer-token check, applied globally. Whether a route is protected is read from the route Nest
 * matched (its controller's @ApiAuth(), or a route template under /api/ as a second line), never from the
 * URL string the client sent: the router percent-decodes a path the string comparison would not.
 * Tokens are compared as SHA-256 digests (knownBearerToken).
 */
@Injectable()
export class ApiTokenGuard implements CanActivate, OnModuleInit {
  private readonly tokens: Buffer[];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly reflector: Reflector,
    private readonly discovery: DiscoveryService,
  ) {
    this.tokens = tokenDigests(config.env.RSB_API_TOKENS);
  }

  /** Fails the boot when a controller serves the API without saying so: forgetting @ApiAuth() is a bug, not an open door. */
  onModuleInit(): void {
    const unmarked = this.discovery
      .getControllers()
      .map((wrapper) => wrapper.metatype as (new (...args: never[]) => unknown) | undefined)
      .filter((type): type is new (...args: never[]) => unknown => typeof type === 'function')
      .filter((type) => {
        const paths = [Reflect.getMetadata(PATH_METADATA, type) as string | string[] | undefined].flat();
        return paths.some((path) => typeof path === 'string' && API_TEMPLATE.test(path)) && !this.reflector.get<boolean>(API_AUTH, type);
      });
    if (unmarked.length)
      throw new Error(`${unmarked.map((type) => type.name).join(', ')} serve /api/ routes without @ApiAuth(); add it to the controller`);
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const marked = this.reflector.getAllAndOverride<boolean>(API_AUTH, [context.getHandler(), context.getClass()]);
    if (!marked && !API_TEMPLATE.test(request.routeOptions?.url ?? '')) return true;

    const header = request.headers.authorization;
    if (!/^Bearer\s+\S+\s*$/i.test(header ?? '')) {
      throw new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Send "Authorization: Bearer <token>" with a token from RSB_API_TOKENS.');
    }
    if (!knownBearerToken(header, this.tokens))
      throw new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', 'The bearer token is not valid.');
    return true;
  }
}
