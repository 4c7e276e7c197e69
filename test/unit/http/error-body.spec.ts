import { ChatError } from '../../../src/chat/chat.errors';
import { DomainError } from '../../../src/common/domain-error';
import { toErrorResponse } from '../../../src/http/error-body';
import { TicketRequestError } from '../../../src/tickets/ticket-request.errors';

describe('toErrorResponse: domain errors', () => {
  it.each([
    ['invalid', 400],
    ['unauthenticated', 401],
    ['not_found', 404],
    ['conflict', 409],
    ['refused', 422],
    ['upstream', 502],
    ['unavailable', 503],
    ['timeout', 504],
  ] as const)('answers a %s failure with %i, its own code and message', (kind, status) => {
    const answer = toErrorResponse(new ChatError(kind, 'escalation_ended', 'Escalation 1 has ended'));
    expect(answer).toEqual({ status, body: { error: { code: 'escalation_ended', message: 'Escalation 1 has ended' } }, unexpected: false });
  });

  it('carries details when the module gives them', () => {
    const answer = toErrorResponse(new TicketRequestError('invalid', 'validation_failed', 'jump.requested needs a target', ['target']));
    expect(answer.body.error).toEqual({ code: 'validation_failed', message: 'jump.requested needs a target', details: ['target'] });
  });

  it("names the module's error class, so logs and stacks say where it came from", () => {
    const error: DomainError = new ChatError('refused', 'appliance_refused', 'The appliance refused');
    expect(error.name).toBe('ChatError');
    expect(error).toBeInstanceOf(DomainError);
  });
});
