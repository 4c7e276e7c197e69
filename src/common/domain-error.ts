/**
 * What kind of failure a module reports, in its own words: the one exception filter (http/error-body.ts)
 * turns the kind into an HTTP status, so code below http/ (services the worker runs too) throws no HTTP error.
 */
export type DomainErrorKind =
  | 'invalid'
  /** The caller did not prove who it is (a webhook's signature or secret missing, wrong or stale). */
  | 'unauthenticated'
  | 'not_found'
  | 'conflict'
  /** The vendor refused what was asked (the appliance's <error>), the caller's request as it stands. */
  | 'refused'
  /** A vendor behind us failed us (our credentials, its refusal of our call): not the caller's fault. */
  | 'upstream'
  | 'unavailable'
  | 'timeout';

/** A failure a caller can act on: its kind, a stable machine code (the envelope's `code`) and a sentence for people. */
export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
