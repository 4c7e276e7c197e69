/** A ticket system refused or failed a write. `retryable` decides between a retry and giving up. */
export class TicketSystemError extends Error {
  constructor(
    readonly system: string,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** From Retry-After on a 429: the queue waits this long before trying again. */
    readonly retryAfterMs?: number,
  ) {
    super(`${system}: ${message}`);
    this.name = 'TicketSystemError';
  }
}
