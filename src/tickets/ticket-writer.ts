/** What the session flows write on a ticket; each ticket system implements it its own way. */
export interface TicketUpdate {
  comment?: { body: string; public: boolean };
  /** System-specific field id → value. */
  fields?: Record<string, string>;
  /** Tags to add (never replacing the ticket's own). */
  addTags?: string[];
}

/** Which delivery and which of its steps a write belongs to, for writers that need it (callbacks). */
export interface WriteContext {
  deliveryId: string;
  step: string;
  callbackUrl?: string;
}

export interface TicketWriter {
  readonly system: string;
  update(ticketId: string, update: TicketUpdate, context?: WriteContext): Promise<void>;
}
