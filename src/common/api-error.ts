import { HttpException, HttpStatus } from '@nestjs/common';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  429: 'too_many_requests',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

export const codeForStatus = (status: number): string => CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');

/** An HTTP error with the project's error shape: a stable machine code, a sentence for people, details. */
export class ApiError extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Response headers that go with it (Retry-After on a 503). */
    readonly headers?: Record<string, string>,
  ) {
    super({ error: { code, message, ...(details === undefined ? {} : { details }) } } satisfies ErrorBody, status);
  }
}
