import { ExecutionContext } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { loadConfig } from '../../../src/config/load-config';
import { ApiError } from '../../../src/common/api-error';
import { ApiAuth, ApiTokenGuard } from '../../../src/http/api-token.guard';

const TOKEN = 'unit-token-0123456789abcdef';

class Unmarked {
  handle() {}
}
@ApiAuth()
class Marked {
  handle() {}
}

/** What Nest hands a guard: the matched handler and class, and Fastify's request with its route template. */
const contextOf = (type: new () => { handle(): void }, template: string, authorization?: string): ExecutionContext =>
  ({
    getType: () => 'http',
    getHandler: () => type.prototype.handle,
    getClass: () => type,
    switchToHttp: () => ({ getRequest: () => ({ routeOptions: { url: template }, headers: authorization ? { authorization } : {} }) }),
  }) as unknown as ExecutionContext;

describe('ApiTokenGuard', () => {
  const sut = new ApiTokenGuard(loadConfig({ RSB_API_TOKENS: TOKEN }), new Reflector(), {
    getControllers: () => [],
  } as unknown as DiscoveryService);

  it('asks a marked controller for a token whatever its route', () => {
    expect(() => sut.canActivate(contextOf(Marked, '/anything'))).toThrow(ApiError);
    expect(sut.canActivate(contextOf(Marked, '/anything', `Bearer ${TOKEN}`))).toBe(true);
  });

  it('still asks for a token when an unmarked handler sits under an /api/ route template', () => {
    expect(() => sut.canActivate(contextOf(Unmarked, '/api/v1/forgotten'))).toThrow(ApiError);
    expect(() => sut.canActivate(contextOf(Unmarked, '/api/v2/later'))).toThrow(ApiError);
  });

  it('lets an unmarked route outside /api/ through', () => {
    expect(sut.canActivate(contextOf(Unmarked, '/webhooks/zendesk'))).toBe(true);
    expect(sut.canActivate(contextOf(Unmarked, '/apiary'))).toBe(true);
  });
});
