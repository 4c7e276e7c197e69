import { cappedBackoffDelay, sessionJobOptions } from '../../../src/jobs/queues';
import { parseOutboundEvent } from '../../../src/session-end/outbound-event';
import { splitNote } from '../../../src/session-end/transcript';

describe('splitNote', () => {
  it('keeps a note that fits whole', () => {
    expect(splitNote('a\nb', 10)).toEqual(['a\nb']);
  });

  it('splits at line breaks, every part within the limit, nothing lost', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(i % 7)}`);
    const parts = splitNote(lines.join('\n'), 40);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(40);
    expect(parts.join('\n')).toBe(lines.join('\n'));
  });

  it('cuts a single line longer than the limit', () => {
    expect(splitNote('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });
});

describe('parseOutboundEvent', () => {
  it('reads the standard variables and keeps the others', () => {
    expect(
      parseOutboundEvent({
        event: 'support_conference_member_added',
        version: '3',
        timestamp: '1795429361',
        appliance_id: 'a1b2c3',
        lsid: 'c5b1f0a0d4e34f1c',
        external_key: 'INC0010001',
        type: 'representative',
        username: ['bob', 'ignored repeat'],
      }),
    ).toEqual({
      event: 'support_conference_member_added',
      lsid: 'c5b1f0a0d4e34f1c',
      externalKey: 'INC0010001',
      timestamp: 1795429361,
      fields: { version: '3', appliance_id: 'a1b2c3', type: 'representative', username: 'bob' },
    });
  });

  it('drops an lsid that is not one (so it never reaches a Redis key or a job id)', () => {
    expect(parseOutboundEvent({ event: 'support_conference_end', lsid: '../../x y' }).lsid).toBeUndefined();
    expect(parseOutboundEvent(undefined)).toEqual({ event: '', lsid: undefined, externalKey: undefined, timestamp: undefined, fields: {} });
  });
});

describe('session job retries', () => {
  it('spread their attempts over the configured hours, at most an hour apart', () => {
    for (const hours of [1, 24, 72]) {
      const { attempts } = sessionJobOptions(hours);
      const delays = Array.from({ length: attempts! - 1 }, (_, i) => cappedBackoffDelay(i + 1, () => 0.5));
      const total = delays.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThanOrEqual(hours * 3_600_000 * 0.95);
      expect(total).toBeLessThan(hours * 3_600_000 + 3_600_000);
      expect(Math.max(...delays)).toBeLessThanOrEqual(3_600_000);
    }
  });

  it('jitter the delay by ±25 %', () => {
    expect(cappedBackoffDelay(1, () => 0)).toBe(1_500);
    expect(cappedBackoffDelay(1, () => 1)).toBe(2_500);
    expect(cappedBackoffDelay(30, () => 0.5)).toBe(3_600_000);
  });
});
