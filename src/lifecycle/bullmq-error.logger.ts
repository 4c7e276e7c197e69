import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { discoverQueues, discoverWorkers } from './bullmq-instances';

const REPEAT_AFTER_MS = 60_000;

/**
 * BullMQ reports connection trouble as 'error' events and, without a listener, prints them raw to
 * stderr. Route them into the JSON log instead, once per distinct message a minute: while Redis is
 * away every reconnect attempt fails the same way, and readiness already says so.
 */
@Injectable()
export class BullmqErrorLogger implements OnApplicationBootstrap {
  private readonly logger = new Logger('BullMQ');
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap(): void {
    for (const worker of discoverWorkers(this.discovery)) worker.on('error', (error) => this.report(`worker ${worker.name}`, error));
    for (const queue of discoverQueues(this.discovery)) queue.on('error', (error) => this.report(`queue ${queue.name}`, error));
  }

  private report(source: string, error: Error): void {
    const key = `${source}: ${error.message}`;
    const now = Date.now();
    if (now - (this.lastSeen.get(key) ?? 0) < REPEAT_AFTER_MS) return;
    this.lastSeen.set(key, now);
    this.logger.warn(key);
  }
}
