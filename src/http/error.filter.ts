import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODE } from '../metrics/metrics.service';
import { ApiError } from '../common/api-error';
import { toErrorResponse } from './error-body';

/** Every error leaves as `{ "error": { "code", "message", "details"? } }`. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body, unexpected } = toErrorResponse(exception);
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    // For the webhook verification metric: why a webhook was refused.
    if (request?.raw) (request.raw as unknown as Record<symbol, string>)[ERROR_CODE] = body.error.code;
    if (unexpected) {
      const detail = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      // Named here: request logs carry no per-request context (see logging.module.ts).
      this.logger.error(`request ${request?.id ?? '-'} ${request?.method ?? ''} ${request?.routeOptions?.url ?? ''}: ${detail}`);
    }
    if (exception instanceof ApiError && exception.headers) void reply.headers(exception.headers);
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
