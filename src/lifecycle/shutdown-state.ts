import { Injectable } from '@nestjs/common';

/** Set once SIGTERM arrives, so readiness fails while the process drains. */
@Injectable()
export class ShutdownState {
  stopping = false;
}
