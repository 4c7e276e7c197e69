import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { jobIds, QUEUES, SessionEndJob, sessionJobOptions } from '../jobs/queues';
import { addDurably } from '../jobs/enqueue';

/**
 * Where every trigger of a pull goes. The job id says what triggered it: the end event and the poll
 * share `pull-<lsid>`, so whichever comes second is a no-op; a survey or a resync gets its own job
 * (the artifact store makes the extra pull write only what is missing).
 */
@Injectable()
export class SessionEndQueue {
  constructor(
    @InjectQueue(QUEUES.sessionEnd) private readonly queue: Queue<SessionEndJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Durable or a 503 (ApiError) for HTTP callers. */
  async add(job: SessionEndJob, suffix?: string): Promise<string> {
    return addDurably(this.queue, 'pull', job, {
      ...sessionJobOptions(this.config.env.RSB_SESSION_RETRY_HOURS),
      ...this.config.jobRetry,
      jobId: jobIds.sessionEnd(job, suffix),
    });
  }
}
