import { DomainError } from '../common/domain-error';

/** A chat escalation that cannot go on as asked: no such escalation, already ended, the appliance refused or is down. */
export class ChatError extends DomainError {}
