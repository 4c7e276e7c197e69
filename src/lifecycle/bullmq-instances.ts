import { WorkerHost } from '@nestjs/bullmq';
import { DiscoveryService } from '@nestjs/core';
import { Queue, Worker } from 'bullmq';

/** The workers @nestjs/bullmq created for this process's processors (none in the api role). */
export function discoverWorkers(discovery: DiscoveryService): Worker[] {
  return discovery
    .getProviders()
    .map((wrapper) => wrapper.instance as unknown)
    .filter((instance): instance is WorkerHost => instance instanceof WorkerHost)
    .map((host) => (host as unknown as { _worker?: Worker })._worker)
    .filter((worker): worker is Worker => worker !== undefined);
}

export function discoverQueues(discovery: DiscoveryService): Queue[] {
  return discovery
    .getProviders()
    .map((wrapper) => wrapper.instance as unknown)
    .filter((instance): instance is Queue => instance instanceof Queue);
}
