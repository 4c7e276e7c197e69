import type { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { until } from './child';

/** What the fake appliance streams for a recording, hashed the way the fake ticket systems hash uploads. */
export const recordingSha256 = (lsid: string, report: string, instance: number, size: number): string =>
  createHash('sha256')
    .update(FakeAppliance.recordingBytes(lsid, report, instance, 0, size))
    .digest('hex');

const ANY_STATE = ['active', 'waiting', 'delayed', 'completed', 'failed'] as const;

/**
 * Waits until the session has jobs in `queues` (its pull, its recording transfers) and each of them has
 * completed or failed for good, so nothing more is coming; answers how many there were.
 */
export const sessionJobsSettled = (lsid: string, ...queues: Queue[]): Promise<number> =>
  until(
    async () => {
      const jobs = (await Promise.all(queues.map((q) => q.getJobs([...ANY_STATE])))).flat().filter((j) => j.data.lsid === lsid);
      const states = await Promise.all(jobs.map((j) => j.getState()));
      return jobs.length > 0 && states.every((s) => s === 'completed' || s === 'failed') && jobs.length;
    },
    30_000,
    `every job of session ${lsid} to finish`,
  );
