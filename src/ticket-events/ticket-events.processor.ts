import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Job } from 'bullmq';
import { CobrowseOutcome, CobrowseService } from '../cobrowse/cobrowse.service';
import { JumpOutcome, JumpService } from '../sessions/jump.service';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { onStalledOut, runJob } from '../jobs/run-job';
import { TicketEventJob, QUEUES } from '../jobs/queues';
import { Locks } from '../redis/locks';
import { SessionKeyService, SessionKeyOutcome } from '../sessions/session-key.service';

/** The event's lock is held by another run, which does (or gives up on) the work: no note of this one's. */
class HeldElsewhere extends Error {}

/**
 * Thin: job in, the use case its action names, outcome out. Permanent failures stop retrying; a 429 waits.
 * A session key's write-back is a job of its own (ticket-writes.processor.ts): these slots only wait on the
 * appliance, never on a ticket system's pacing.
 *
 * A job whose worker died is taken over once its lock expires and the stalled check runs: 10 s and 5 s
 * (BullMQ's defaults are 30 s each) put a crashed ticket's key on its way again within 15 s. An event
 * takes seconds, and the lock is renewed every 5 s while it runs.
 */
@Processor(QUEUES.ticketEvents, { lockDuration: 10_000, stalledInterval: 5_000 })
export class TicketEventsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly sessions: SessionKeyService,
    private readonly cobrowse: CobrowseService,
    private readonly jump: JumpService,
    private readonly locks: Locks,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  /** Several events at once: a ticket whose system or appliance answers slowly holds no other. */
  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.env.RSB_TICKET_EVENTS_CONCURRENCY;
    onStalledOut(this.worker, (job, error) => this.giveUp((job as Job<TicketEventJob>).data, error));
  }

  process(job: Job<TicketEventJob>): Promise<SessionKeyOutcome | CobrowseOutcome | JumpOutcome> {
    const event = job.data;
    return runJob<SessionKeyOutcome | CobrowseOutcome | JumpOutcome>(
      this.worker,
      async () => {
        // One run of an event at a time: a job BullMQ took for stalled (its lock lost while a Redis failover
        // went on, say) must not run beside the run that still holds it, or both would write before either
        // recorded its write. The later run retries, and by then finds the writes done. A run whose lease
        // lapsed is told through the signal and stops before its next write.
        const outcome = await this.locks.withLock<SessionKeyOutcome | CobrowseOutcome | JumpOutcome>(`ticket-event:${job.id}`, (signal) => {
          if (event.action === 'cobrowse.requested') return this.cobrowse.handle(event, signal);
          if (event.action === 'jump.requested') return this.jump.handle(event, signal);
          return this.sessions.handleEvent(event, signal);
        });
        if (!outcome.ran) throw new HeldElsewhere(`ticket event ${job.id} is being run by another worker; retried later`);
        return outcome.value;
      },
      { job, onGiveUp: (error) => this.giveUp(event, error) },
    );
  }

  /** A failed-for-good event lands on its ticket: the use case its action names says what was not done. */
  private async giveUp(event: TicketEventJob, error: Error): Promise<void> {
    if (error instanceof HeldElsewhere) return;
    if (event.action === 'cobrowse.requested') return this.cobrowse.reportFailure(event, error);
    if (event.action === 'jump.requested') return this.jump.reportFailure(event, error);
    return this.sessions.reportEventFailure(event, error);
  }
}
