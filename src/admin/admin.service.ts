import { HttpStatus, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { ApiError } from '../common/api-error';
import { discoverQueues } from '../lifecycle/bullmq-instances';
import { ArtifactStore, SessionStateStore } from '../session-end/session-stores';
import { LinkStore } from '../sessions/link.store';

/** What operators may look at and do: queue counts, failed jobs and their retry, ticket ↔ session links. */
@Injectable()
export class AdminService {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly links: LinkStore,
    private readonly artifacts: ArtifactStore,
    private readonly states: SessionStateStore,
  ) {}

  private queue(name: string): Queue {
    const queues = discoverQueues(this.discovery);
    const queue = queues.find((q) => q.name === name);
    if (!queue)
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'not_found',
        `No queue ${name}; queues: ${[...new Set(queues.map((q) => q.name))].sort().join(', ')}`,
      );
    return queue;
  }

  async counts(): Promise<Record<string, Record<string, number>>> {
    const unique = new Map(discoverQueues(this.discovery).map((q) => [q.name, q]));
    const out: Record<string, Record<string, number>> = {};
    for (const [name, queue] of [...unique].sort())
      out[name] = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    return out;
  }

  async failed(name: string, limit: string) {
    const n = Math.min(500, Math.max(1, Number(limit) || 50));
    const jobs = await this.queue(name).getFailed(0, n - 1);
    return jobs.map((j) => ({
      id: j.id,
      name: j.name,
      failedReason: j.failedReason,
      attemptsMade: j.attemptsMade,
      failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : undefined,
      data: j.data as unknown,
    }));
  }

  /** How many failed jobs were sent back to the queue. */
  async retryAll(name: string): Promise<number> {
    const queue = this.queue(name);
    const count = await queue.getFailedCount();
    await queue.retryJobs({ state: 'failed', count: 1000 });
    return count;
  }

  async retryOne(name: string, jobId: string): Promise<void> {
    const job = await this.queue(name).getJob(jobId);
    if (!job || !(await job.isFailed())) throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', `No failed job ${jobId} in ${name}`);
    await job.retry('failed');
  }

  ticketLinks(system: string, ticketId: string) {
    return this.links.byTicket(system, ticketId);
  }

  async session(lsid: string) {
    const [state, artifacts] = await Promise.all([this.states.get(lsid), this.artifacts.done(lsid)]);
    const link = state.externalKey ? await this.links.byExternalKey(state.externalKey) : undefined;
    if (!Object.keys(state).length && !Object.keys(artifacts).length)
      throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', `rs-bridge knows nothing of session ${lsid}`);
    return { lsid, state, link, artifacts };
  }
}
