import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Job } from 'bullmq';
import { discoverWorkers } from './bullmq-instances';

/** What a job is about, from the ids its data carries (never the data itself: it may hold personal data). */
export function jobSubject(data: unknown): { ticket?: string; lsid?: string; escalation?: string } {
  const d = (data ?? {}) as {
    system?: string;
    lsid?: string;
    escalationId?: string;
    ticket?: { system?: string; number?: string; id?: string };
  };
  const system = d.ticket?.system ?? d.system;
  const number = d.ticket?.number ?? d.ticket?.id;
  return {
    ...(system && number ? { ticket: `${system}:${number}` } : {}),
    ...(d.lsid ? { lsid: String(d.lsid) } : {}),
    ...(d.escalationId ? { escalation: String(d.escalationId) } : {}),
  };
}

/**
 * Every failed attempt of every queue's job, in one place: queue, job id, what the job is about (ticket,
 * lsid, escalation), attempt n of max, whether it will be retried, and the reason. A retry is a warning;
 * a job that failed for good is an error. Secrets cannot reach these lines: the reason is our own
 * error's message, and the logger scrubs configured secret values from every line anyway.
 */
@Injectable()
export class JobFailureLogger implements OnApplicationBootstrap {
  private readonly logger = new Logger('Jobs');

  constructor(private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap(): void {
    for (const worker of discoverWorkers(this.discovery)) {
      worker.on('failed', (job, error) => this.failed(worker.name, job, error));
      worker.on('stalled', (jobId) =>
        this.logger.warn({ queue: worker.name, jobId, msg: `${worker.name} job ${jobId}: its worker stopped answering; it runs again` }),
      );
    }
  }

  private failed(queue: string, job: Job | undefined, error: Error): void {
    if (!job) {
      this.logger.error({ queue, reason: error.message, msg: `${queue}: a job failed: ${error.message}` });
      return;
    }
    const maxAttempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade;
    const final = Boolean(job.finishedOn) || error.name === 'UnrecoverableError' || attempt >= maxAttempts;
    const subject = jobSubject(job.data);
    const about = Object.entries(subject)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const fields = { queue, jobId: job.id, ...subject, attempt, maxAttempts, final, reason: error.message };
    const msg = `${queue} job ${job.id}${about ? ` (${about})` : ''} failed, attempt ${attempt} of ${maxAttempts}, ${final ? 'given up' : 'will retry'}: ${error.message}`;
    if (final) this.logger.error({ ...fields, msg });
    else this.logger.warn({ ...fields, msg });
  }
}
