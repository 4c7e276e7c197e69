import { HttpStatus } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';

/** The exact bytes the sender signed; refuses bodies over the webhook cap with 413. */
export function checkBodySize(req: FastifyRequest & { rawBody?: Buffer }, maxBytes: number): Buffer {
  const raw = req.rawBody ?? Buffer.alloc(0);
  if (raw.length > maxBytes) {
    throw new ApiError(
      HttpStatus.PAYLOAD_TOO_LARGE,
      'payload_too_large',
      `The webhook body is ${raw.length} bytes; the limit is ${maxBytes} (RSB_WEBHOOK_MAX_BYTES)`,
    );
  }
  return raw;
}
