import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger as PinoInstance } from 'pino';
import { redactHeaders, redactUrl } from './redaction';

/** Probes hit every few seconds; their answers are visible in the orchestrator. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One JSON line per answered request (Fastify's onResponse): id, method, URL and headers with
 * credentials redacted, status and time taken. 5xx are logged as errors, 4xx as warnings.
 */
export function logAccess(logger: PinoInstance, request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?', 1)[0];
  if (QUIET_PATHS.has(path)) return;
  const status = reply.statusCode;
  const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    {
      req: {
        id: request.id,
        method: request.method,
        url: redactUrl(request.url),
        headers: redactHeaders(request.headers),
        remoteAddress: request.ip,
      },
      res: { statusCode: status },
      responseTime: Math.round(reply.elapsedTime),
    },
    'request completed',
  );
}
