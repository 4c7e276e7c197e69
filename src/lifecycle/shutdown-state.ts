import { Injectable } from '@nestjs/common';

/** Set once SIGTERM arrives, so readiness fails while the process drains. */
@Injectable()
export class ShutdownState {
  stopping = false;
  /**
   * What /readyz last answered (undefined: never asked). A process whose last answer was "not ready" is
   * already out of the load balancer's rotation, so it need not keep serving through a drain period.
   */
  lastReady?: boolean;
}
