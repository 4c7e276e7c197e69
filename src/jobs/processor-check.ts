import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { QUEUE_NAMES } from './queues';

/** Where @Processor() keeps its queue name (@nestjs/bullmq's PROCESSOR_METADATA, not exported by the package). */
const PROCESSOR_METADATA = 'bullmq:processor_metadata';

/** Queue names the processors of this process consume, one entry a processor. */
export function processorQueues(discovery: DiscoveryService): string[] {
  return discovery
    .getProviders()
    .map((wrapper) => (!wrapper.metatype || wrapper.inject ? (wrapper.instance as object | undefined)?.constructor : wrapper.metatype))
    .map((type) => (type ? (Reflect.getMetadata(PROCESSOR_METADATA, type) as { name?: string } | undefined) : undefined))
    .filter((meta): meta is { name: string } => typeof meta?.name === 'string')
    .map((meta) => meta.name);
}

/**
 * Why a worker must not start with these processors, or undefined when every queue of the catalogue has
 * exactly one. Queues outside the catalogue (a test's own) are not its business.
 */
export function processorProblem(found: string[], expected: readonly string[] = QUEUE_NAMES): string | undefined {
  const problems: string[] = [];
  for (const name of expected) {
    const count = found.filter((queue) => queue === name).length;
    if (count === 0) problems.push(`queue ${name} has no processor: its jobs would wait forever`);
    if (count > 1) problems.push(`queue ${name} has ${count} processors: its jobs would run in whichever takes them`);
  }
  return problems.length ? `the worker's queue processors do not match the catalogue: ${problems.join('; ')}` : undefined;
}

/** Worker role only: refuses to boot a worker that would leave a queue without its processor, or give it two. */
@Injectable()
export class ProcessorCheck implements OnModuleInit {
  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    const problem = processorProblem(processorQueues(this.discovery));
    if (problem) throw new Error(problem);
  }
}
