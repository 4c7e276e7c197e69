import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Job, Queue } from 'bullmq';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { RedisService } from '../redis/redis.service';
import { CAPPED_BACKOFF, cappedBackoffDelay, RecordingJob, QUEUES, SessionEndJob } from '../jobs/queues';
import { jobLog, onStalledOut, runJob } from '../jobs/run-job';
import { SessionPoller } from './poller.service';
import { RecordingTransferService, TransferReport } from './recording-transfer.service';
import { SessionEndService } from './session-end.service';

const settings = {
  backoffStrategy: (attemptsMade: number, type?: string) => (type === CAPPED_BACKOFF ? cappedBackoffDelay(attemptsMade) : 0),
};

/**
 * A pull's lock is renewed while it runs (waiting on the write budget, and on Zendesk the recordings'
 * uploads that ride on its note, included), so the lock can be short: a worker killed mid-pull hands the session to another within ~15 s, not BullMQ's 30 s lock
 * plus 30 s checks (up to 90 s a death; a pull whose workers died twice waited three minutes in the soak).
 */
@Processor(QUEUES.sessionEnd, { settings, lockDuration: 10_000, stalledInterval: 5_000 })
export class SessionEndProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly sessions: SessionEndService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  /** Several sessions at once: one slow ticket or report holds no other (each session has its own lock). */
  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.env.RSB_SESSION_END_CONCURRENCY;
    onStalledOut(this.worker, (job, error) => this.sessions.reportFailure((job as Job<SessionEndJob>).data, error));
  }

  process(job: Job<SessionEndJob>) {
    return runJob(this.worker, () => this.sessions.pull(job.data, job.attemptsMade, job.timestamp), {
      job,
      onGiveUp: (error) => this.sessions.reportFailure(job.data, error),
    });
  }
}

/**
 * Recordings stream for minutes; two at a time per worker keeps memory flat and the appliance calm. The
 * job lock is renewed while a transfer runs, so it can stay short: a worker killed mid-transfer hands the
 * recording to another within 40 s instead of minutes.
 */
@Processor(QUEUES.recordings, { settings, concurrency: 2, lockDuration: 30_000, stalledInterval: 10_000 })
export class RecordingsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(private readonly recordings: RecordingTransferService) {
    super();
  }

  onApplicationBootstrap(): void {
    onStalledOut(this.worker, (job, error) => this.recordings.reportFailure((job as Job<RecordingJob>).data, error));
  }

  process(job: Job<RecordingJob>) {
    // Bull Board's Progress and Logs tabs: bytes so far, and why the job waited.
    const report: TransferReport = {
      progress: (progress) => job.updateProgress(progress).catch(() => undefined),
      log: (line) => jobLog(job, line),
    };
    return runJob(this.worker, () => this.recordings.transfer(job.data, report), {
      job,
      onGiveUp: (error) => this.recordings.reportFailure(job.data, error),
    });
  }
}

@Processor(QUEUES.sessionPoll)
export class SessionPollProcessor extends WorkerHost {
  constructor(private readonly poller: SessionPoller) {
    super();
  }

  process() {
    return runJob(this.worker, () => this.poller.poll());
  }
}

/** Keeps the poll's job scheduler in step with BT_POLL_INTERVAL_SECONDS (0 removes it), once Redis answers. */
@Injectable()
export class PollScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('SessionPoller');

  constructor(
    @InjectQueue(QUEUES.sessionPoll) private readonly queue: Queue,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.redis.inBackground('scheduling the session poll', () => this.schedule());
  }

  private async schedule(): Promise<void> {
    const seconds = this.config.env.BT_POLL_INTERVAL_SECONDS;
    if (seconds > 0 && this.config.env.BT_SITE_URL) {
      await this.queue.upsertJobScheduler(
        'poll',
        { every: seconds * 1000 },
        { name: 'poll', opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
      this.logger.log(`polling SupportSessionListing every ${seconds} s`);
    } else {
      await this.queue.removeJobScheduler('poll');
    }
  }
}
