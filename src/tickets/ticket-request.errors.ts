import { DomainError } from '../common/domain-error';

/** A ticket's request (co-browse, Jump) that lacks what its action needs; nothing is enqueued for it. */
export class TicketRequestError extends DomainError {}
