import { Processor, WorkerHost } from '@nestjs/bullmq';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ProcessorCheck, processorProblem } from '../../../src/jobs/processor-check';
import { QUEUES } from '../../../src/jobs/queues';

// Processors as @nestjs/bullmq sees them; without BullModule no worker (and no Redis) is created.
const processorFor = (queue: string) => {
  @Processor(queue)
  class P extends WorkerHost {
    process(): Promise<void> {
      return Promise.resolve();
    }
  }
  Object.defineProperty(P, 'name', { value: `Processor_${queue}` });
  return P;
};

const boot = async (queues: string[]) => {
  const module = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [ProcessorCheck, ...queues.map(processorFor)],
  }).compile();
  await module.init();
  await module.close();
};

describe('the boot check of queue processors', () => {
  const all = [
    QUEUES.ticketEvents,
    QUEUES.ticketWrites,
    QUEUES.sessionEnd,
    QUEUES.recordings,
    QUEUES.sessionPoll,
    QUEUES.chatWatch,
    QUEUES.chatCallbacks,
  ];

  it('boots when every queue of the catalogue has one processor (and ignores queues outside it)', async () => {
    await expect(boot([...all, 'a-test-queue'])).resolves.toBeUndefined();
  });

  it('stops boot naming the queue that has no processor', async () => {
    await expect(boot(all.filter((q) => q !== 'chat-callbacks'))).rejects.toThrow(
      "the worker's queue processors do not match the catalogue: queue chat-callbacks has no processor: its jobs would wait forever",
    );
  });

  it('stops boot when a queue has two processors', () => {
    expect(processorProblem([...all, 'recordings'])).toMatch(/queue recordings has 2 processors/);
  });
});
