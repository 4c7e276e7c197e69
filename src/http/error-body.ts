import { HttpException } from '@nestjs/common';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, codeForStatus, ErrorBody } from '../common/api-error';
import { DomainError, DomainErrorKind } from '../common/domain-error';

/** The status each kind of domain failure answers with. */
const DOMAIN_STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  not_found: 404,
  conflict: 409,
  refused: 422,
  upstream: 502,
  unavailable: 503,
  timeout: 504,
};

/** Turns anything thrown while handling a request into the status and body we answer with. */
export function toErrorResponse(exception: unknown): { status: number; body: ErrorBody; unexpected: boolean } {
  if (exception instanceof ApiError) {
    return { status: exception.getStatus(), body: exception.getResponse() as ErrorBody, unexpected: false };
  }
  if (exception instanceof DomainError) {
    const { code, message, details } = exception;
    return {
      status: DOMAIN_STATUS[exception.kind],
      body: { error: { code, message, ...(details === undefined ? {} : { details }) } },
      unexpected: false,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    let message = exception.message;
    let details: unknown;
    if (typeof response === 'object' && response !== null && 'message' in response) {
      const m = (response as { message: unknown }).message;
      if (Array.isArray(m)) {
        message = 'The request is invalid.';
        details = m;
      } else if (typeof m === 'string') {
        message = m;
      }
    }
    return { status, body: { error: { code: codeForStatus(status), message, ...(details ? { details } : {}) } }, unexpected: false };
  }
  // Errors raised by Fastify itself (body parser, body limit, content type) carry a statusCode.
  const fastifyError = exception as { statusCode?: number; message?: string; code?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    const message = (fastifyError.message ?? 'Bad request').replace(/^FST_\w+:\s*/, '');
    return { status, body: { error: { code: codeForStatus(status), message } }, unexpected: false };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'Internal server error' } }, unexpected: true };
}

/**
 * Fastify's own errors raised before routing (a URL that does not decode, FST_ERR_BAD_URL), answered in
 * the envelope like every other error.
 */
export function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorResponse(error.statusCode ? error : Object.assign(error, { statusCode: 400 }));
  void reply.code(status).header('content-type', 'application/json; charset=utf-8').send(body);
}
