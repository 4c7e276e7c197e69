import { DomainError } from '../common/domain-error';

/** A watch URL that cannot be made: co-browsing not configured, no visitor, or Upscope refused or is down. */
export class CobrowseError extends DomainError {}
