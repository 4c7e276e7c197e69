import { HttpStatus } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parse as parseForm } from 'node:querystring';
import { ApiError } from '../common/api-error';

/** Deeper than any body we take (webhooks and API bodies nest 4 or 5 levels); checked before class-transformer. */
export const MAX_BODY_DEPTH = 32;

/**
 * Keys that mean something to JavaScript objects: `__proto__` would replace an object's prototype and
 * `constructor` makes class-transformer call a string as a constructor (a 500). No body of ours needs
 * them as names, so they are refused wherever they appear rather than silently dropped.
 */
export const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const JSON_TYPE = 'application/json';
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** What a route takes, in its Fastify config (Nest: `@RouteConfig({ consumes: [...] })`); JSON unless it says. */
export interface BodyRouteConfig {
  consumes?: string[];
}

const mediaType = (header: string | undefined): { type: string; charset?: string } => {
  const [type, ...params] = (header ?? '').split(';');
  const charset = params.map((p) => /^\s*charset\s*=\s*"?([^";]*)"?\s*$/i.exec(p)?.[1]).find((c) => c !== undefined);
  return { type: type.trim().toLowerCase(), charset: charset?.toLowerCase() };
};

const hasBody = (request: FastifyRequest): boolean =>
  request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;

/** Refuses what the route does not take with 415, before any parser reads the body. */
function checkMediaType(request: FastifyRequest): void {
  if (request.method === 'GET' || request.method === 'HEAD' || !hasBody(request)) return;
  const consumes = (request.routeOptions.config as BodyRouteConfig | undefined)?.consumes ?? [JSON_TYPE];
  const { type, charset } = mediaType(request.headers['content-type']);
  const accepted = consumes.includes(type) && (charset === undefined || charset === 'utf-8' || charset === 'utf8');
  if (!accepted)
    throw new ApiError(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'unsupported_media_type',
      `This endpoint takes ${consumes.join(' or ')} (UTF-8); the request was sent as ${request.headers['content-type'] || 'no content type'}`,
    );
}

/** Walks a parsed JSON value without recursion: too deep or a reserved key is a 400 naming where. */
export function checkJsonShape(value: unknown): void {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 1, path: '' }];
  while (stack.length > 0) {
    const { value: node, depth, path } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_BODY_DEPTH)
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'body_too_deep',
        `The JSON body is nested more than ${MAX_BODY_DEPTH} levels deep (at ${path || 'the top'}); no request needs that`,
      );
    for (const [key, child] of Object.entries(node)) {
      const where = Array.isArray(node) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!Array.isArray(node) && RESERVED_KEYS.has(key))
        throw new ApiError(
          HttpStatus.BAD_REQUEST,
          'reserved_key',
          `"${key}" cannot be used as a name in the body (at ${where}); rename it`,
        );
      stack.push({ value: child, depth: depth + 1, path: where });
    }
  }
}

/**
 * Body handling for every route, replacing Nest's parsers (NestFactory.create with bodyParser: false):
 * - 415 for a content type the route does not take (JSON unless its config says otherwise), before parsing;
 * - JSON: the raw bytes kept as request.rawBody (webhook signatures cover them), an empty body read as no
 *   body, then the depth cap and the reserved keys checked before any DTO sees the value;
 * - form-encoded (the appliance's outbound events): raw bytes kept, parsed into a null-prototype object
 *   (node:querystring's), where a reserved name is an ordinary key.
 * Parser errors (malformed JSON) and the body limit (413) are Fastify's, mapped to the envelope by the
 * error handler.
 */
export function registerBodyHandling(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addHook('preParsing', async (request, _reply, payload) => {
    checkMediaType(request);
    return payload;
  });
  fastify.addContentTypeParser(JSON_TYPE, { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    (request as FastifyRequest & { rawBody?: Buffer }).rawBody = body;
    if (body.length === 0) return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (error) {
      return done(
        new ApiError(HttpStatus.BAD_REQUEST, 'bad_request', `The body is not valid JSON: ${(error as Error).message}`),
        undefined,
      );
    }
    try {
      checkJsonShape(value);
    } catch (error) {
      return done(error as Error, undefined);
    }
    done(null, value);
  });
  fastify.addContentTypeParser(FORM_TYPE, { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    (request as FastifyRequest & { rawBody?: Buffer }).rawBody = body;
    done(null, parseForm(body.toString('utf8')));
  });
}
