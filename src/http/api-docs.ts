import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorBody = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
};

/** An inbound webhook in the OpenAPI document: its body schemas (from the DTOs), example and answers. */
export function ApiWebhook(summary: string, schemas: string[], example: unknown, accepted = 202) {
  return applyDecorators(
    ApiTags('webhooks'),
    ApiOperation({ summary }),
    ApiBody({ schema: schemas.length === 1 ? ref(schemas[0]) : { oneOf: schemas.map(ref) }, examples: { example: { value: example } } }),
    ApiResponse({
      status: accepted,
      description: 'Verified and queued durably',
      schema: { type: 'object', properties: { jobId: { type: 'string' } } },
    }),
    ApiResponse({ status: 400, description: 'Invalid body: every bad field is listed in details', schema: errorBody }),
    ApiResponse({ status: 401, description: 'Signature, secret or token missing or wrong', schema: errorBody }),
    ApiResponse({ status: 404, description: 'This system is not configured', schema: errorBody }),
    ApiResponse({ status: 413, description: 'Body over RSB_WEBHOOK_MAX_BYTES', schema: errorBody }),
    ApiResponse({
      status: 429,
      description: 'Over RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE from this address: see Retry-After',
      schema: errorBody,
    }),
    ApiResponse({
      status: 503,
      description: 'Redis unavailable: nothing was queued, send again',
      schema: errorBody,
      headers: { 'Retry-After': { description: 'Seconds to wait before sending again', schema: { type: 'integer' } } },
    }),
  );
}

/** A bearer-token endpoint of /api/v1 with its body schema (its controller's @ApiAuth() documents the bearer scheme). */
export function ApiCall(tag: string, summary: string, body?: { schema: string; example: unknown }) {
  return applyDecorators(
    ApiTags(tag),
    ApiOperation({ summary }),
    ApiResponse({ status: 401, description: 'No or wrong bearer token (RSB_API_TOKENS)', schema: errorBody }),
    ApiResponse({ status: 429, description: 'Over RSB_API_RATE_LIMIT_PER_MINUTE for this token: see Retry-After', schema: errorBody }),
    ...(body ? [ApiBody({ schema: ref(body.schema), examples: { example: { value: body.example } } })] : []),
  );
}
