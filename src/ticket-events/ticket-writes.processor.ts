import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Job } from 'bullmq';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { onStalledOut, runJob } from '../jobs/run-job';
import { QUEUES, TicketWriteJob } from '../jobs/queues';
import { Locks } from '../redis/locks';
import { SessionKeyOutcome, SessionKeyService } from '../sessions/session-key.service';

/**
 * Thin: a key's write-back (queued by its ticket event's job once the key was made) to the use case.
 * Its lock and stalled check are those of ticket-events: a killed worker's write is taken over within 15 s.
 */
@Processor(QUEUES.ticketWrites, { lockDuration: 10_000, stalledInterval: 5_000 })
export class TicketWritesProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly sessions: SessionKeyService,
    private readonly locks: Locks,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  /** Several tickets at once: one whose system answers slowly holds no other. */
  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.env.RSB_TICKET_WRITES_CONCURRENCY;
    onStalledOut(this.worker, (job, error) => this.sessions.reportWriteFailure((job as Job<TicketWriteJob>).data, error));
  }

  process(job: Job<TicketWriteJob>): Promise<SessionKeyOutcome> {
    return runJob(
      this.worker,
      async () => {
        // One run of a write-back at a time, as for its event: a job taken for stalled must not write beside
        // the run that still holds it. The later run retries, and finds the writes done.
        const outcome = await this.locks.withLock(`ticket-write:${job.id}`, (signal) => this.sessions.writeBack(job.data, signal));
        if (!outcome.ran) throw new Error(`ticket write ${job.id} is being run by another worker; retried later`);
        return outcome.value;
      },
      { job, onGiveUp: (error) => this.sessions.reportWriteFailure(job.data, error) },
    );
  }
}
