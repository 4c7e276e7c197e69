import { BullModule, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { ChatCallbackJob, ChatWatchJob, QUEUES } from '../jobs/queues';
import { isPermanent, runJob } from '../jobs/run-job';
import { RedisService } from '../redis/redis.service';
import { SessionEndModule } from '../session-end/session-end.module';
import { SessionsModule } from '../sessions/sessions.module';
import { ChatRealtimeService } from './chat-realtime.service';
import { ChatWatchService } from './chat-watch.service';
import { ChatController } from './chat.controller';
import { ChatService } from './chat.service';
import { EscalationStore } from './escalation.store';

const queues = BullModule.registerQueue({ name: QUEUES.chatWatch }, { name: QUEUES.chatCallbacks });
const services = [ChatService, ChatWatchService, ChatRealtimeService, EscalationStore];

@Processor(QUEUES.chatWatch)
export class ChatWatchProcessor extends WorkerHost {
  constructor(private readonly watcher: ChatWatchService) {
    super();
  }

  process(job: Job<ChatWatchJob>) {
    return runJob(this.worker, () => this.watcher.tick(job.data?.force === true));
  }
}

/** Callbacks are many small jobs: several escalations deliver at once, each in its own order. */
@Processor(QUEUES.chatCallbacks, { concurrency: 8 })
export class ChatCallbackProcessor extends WorkerHost {
  constructor(private readonly watcher: ChatWatchService) {
    super();
  }

  /** A bot's 4xx is permanent (the job stops; the next tick queues the outbox again); its 429 pauses the queue. */
  process(job: Job<ChatCallbackJob>) {
    return runJob(this.worker, () => this.watcher.deliver(job.data.escalationId), {
      job,
      onGiveUp: async (error) => {
        if (isPermanent(error)) await this.watcher.refused(job.data.escalationId, error);
      },
    });
  }
}

/** The watch tick every RSB_CHAT_POLL_MS, where chat is configured, once Redis answers. */
@Injectable()
export class ChatWatchScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QUEUES.chatWatch) private readonly queue: Queue,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.redis.inBackground('scheduling the chat watcher', () => this.schedule());
  }

  private async schedule(): Promise<void> {
    const env = this.config.env;
    if (env.RSB_CALLBACK_SECRET && env.BT_SITE_URL)
      await this.queue.upsertJobScheduler(
        'watch',
        { every: env.RSB_CHAT_POLL_MS },
        { name: 'tick', opts: { removeOnComplete: true, removeOnFail: 100 } },
      );
    else await this.queue.removeJobScheduler('watch');
  }
}

/** Flow 3, chat bot escalations: the bot API, the watcher and the signed callbacks. */
@Module({ imports: [queues, SessionsModule, SessionEndModule], providers: services, exports: [...services, queues] })
export class ChatModule {}

@Module({ imports: [ChatModule], controllers: [ChatController] })
export class ChatApiModule {}

@Module({ imports: [ChatModule], providers: [ChatWatchProcessor, ChatCallbackProcessor, ChatWatchScheduler] })
export class ChatWorkerModule {}
