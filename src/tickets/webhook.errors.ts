import { DomainError } from '../common/domain-error';

/** An inbound ticket webhook refused: its sender is not proven (signature, secret, timestamp) or its body is unusable. */
export class TicketWebhookError extends DomainError {}

/** A sender that did not prove itself: answered 401 with `code`. */
export const unauthenticated = (code: string, message: string): TicketWebhookError =>
  new TicketWebhookError('unauthenticated', code, message);

/** A request that cannot be used as sent: answered `400 validation_failed`. */
export const invalidWebhook = (message: string): TicketWebhookError => new TicketWebhookError('invalid', 'validation_failed', message);
