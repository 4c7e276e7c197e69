import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { ApiError } from './api-error';

export const API_PREFIX = '/api/v1/';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Guards every route under /api/v1/ (applied globally, so a new controller cannot forget it).
 * Tokens are compared as SHA-256 digests with timingSafeEqual, against every configured token,
 * so neither the length nor the position of a match leaks through timing.
 */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly tokens: Buffer[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.tokens = config.env.RSB_API_TOKENS.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!request.url.startsWith(API_PREFIX)) return true;

    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Send "Authorization: Bearer <token>" with a token from RSB_API_TOKENS.');
    }
    const presented = digest(match[1]);
    let ok = false;
    for (const token of this.tokens) ok = timingSafeEqual(presented, token) || ok;
    if (!ok) throw new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', 'The bearer token is not valid.');
    return true;
  }
}
