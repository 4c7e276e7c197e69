/**
 * Every failure of a call to the appliance is one of these. `retryable` tells a queue processor
 * whether to let BullMQ retry (throw as is) or to give up (wrap in UnrecoverableError).
 */
export class BeyondTrustError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The command action or report name, for logs and metrics. */
    readonly operation?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The appliance answered `<error>` (inside an HTTP 200) or a 4xx: the request itself is wrong. */
export class BeyondTrustApiError extends BeyondTrustError {
  constructor(message: string, operation?: string, status?: number) {
    super(message, false, operation, status);
  }
}

/** The API account's credentials are refused (a revoked or wrong client secret). */
export class BeyondTrustAuthError extends BeyondTrustError {
  constructor(message: string, operation?: string, status?: number) {
    super(message, false, operation, status);
  }
}

/** 429, 5xx, timeouts, connection failures: worth trying again later. */
export class BeyondTrustUnavailableError extends BeyondTrustError {
  constructor(
    message: string,
    operation?: string,
    status?: number,
    /** From Retry-After, when the appliance said how long to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message, true, operation, status);
  }
}

/** The answer is not the XML the guide describes: malformed, hostile or too large. */
export class BeyondTrustResponseError extends BeyondTrustError {
  constructor(message: string, operation?: string) {
    super(message, false, operation);
  }
}

/** BT_SITE_URL is not set: the feature asking for the appliance cannot work in this deployment. */
export class BeyondTrustNotConfiguredError extends BeyondTrustError {
  constructor() {
    super('BeyondTrust is not configured: set BT_SITE_URL, BT_CLIENT_ID and BT_CLIENT_SECRET', false);
  }
}
