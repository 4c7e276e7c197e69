import { createHash } from 'node:crypto';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';

/** What the fake appliance streams for a recording, hashed the way the fake ticket systems hash uploads. */
export const recordingSha256 = (lsid: string, report: string, instance: number, size: number): string =>
  createHash('sha256')
    .update(FakeAppliance.recordingBytes(lsid, report, instance, 0, size))
    .digest('hex');
