import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { BeyondTrustService } from '../beyondtrust/beyondtrust.service';
import { RealtimeStateClient, RowChange } from '../beyondtrust/realtime-state.client';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { QUEUES } from '../jobs/queues';
import { EscalationStore } from './escalation.store';

/**
 * With BT_REALTIME_ENABLED, a local copy of the appliance's support_session and
 * representative_support_session tables (Real-Time State API): a representative joining or leaving, an
 * owner change or a session ending makes the watcher read that escalation at once instead of at its next
 * tick (where workers run), and GET reports the estimated pickup time. Chat lines still come from reports:
 * the real-time model carries no chat.
 */
@Injectable()
export class ChatRealtimeService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ChatRealtime');
  private client?: RealtimeStateClient;

  constructor(
    private readonly beyondtrust: BeyondTrustService,
    private readonly escalations: EscalationStore,
    @InjectQueue(QUEUES.chatWatch) private readonly watch: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const env = this.config.env;
    if (!env.BT_REALTIME_ENABLED || !env.RSB_CALLBACK_SECRET || !this.beyondtrust.configured) return;
    this.client = this.beyondtrust.realtime(['support_session', 'representative_support_session']);
    this.client.on('error', (error: Error) => this.logger.warn(`real-time state: ${error.message}`));
    if (env.RSB_ROLE !== 'api') this.client.on('change', (change: RowChange) => void this.onChange(change));
    this.client.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.stop();
  }

  /** When the appliance expects the session to be picked up (ISO), while it waits in a queue. */
  estimatedPickup(lsid: string): string | undefined {
    const row = this.client?.rows('support_session').find((r) => r.lsid === lsid);
    const at = Number(row?.estimated_pickup_timestamp);
    return Number.isFinite(at) && at > 0 ? new Date(at * 1000).toISOString() : undefined;
  }

  private lsidOf(change: RowChange): string | undefined {
    const row = change.row ?? change.previous;
    if (change.table === 'support_session') return typeof row?.lsid === 'string' ? row.lsid : undefined;
    // Rows are keyed by their id; representative_support_session points at the session's.
    const session = this.client?.tables.get('support_session')?.get(String(row?.support_session_id));
    return typeof session?.lsid === 'string' ? session.lsid : undefined;
  }

  private async onChange(change: RowChange): Promise<void> {
    if (change.table === 'support_session' && change.kind === 'insert') return;
    const lsid = this.lsidOf(change);
    if (lsid && !(await this.escalations.idOf(lsid))) return;
    try {
      await this.watch.add(
        'tick',
        { reason: `${change.table} ${change.kind}`, force: true },
        { removeOnComplete: true, removeOnFail: true },
      );
    } catch (error) {
      this.logger.warn(`could not queue a watcher tick: ${(error as Error).message}`);
    }
  }
}
