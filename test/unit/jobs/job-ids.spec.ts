import { jobIds } from '../../../src/jobs/queues';

describe('job ids (the keys that make a second trigger a no-op)', () => {
  it('maps a delivery to the same id every time, the system first, without the raw delivery id', () => {
    const id = jobIds.ticketEvent({ system: 'zendesk', deliveryId: '01HZ/with:odd chars' });
    expect(id).toMatch(/^zendesk-[0-9a-f]{32}$/);
    expect(jobIds.ticketEvent({ system: 'zendesk', deliveryId: '01HZ/with:odd chars' })).toBe(id);
    expect(jobIds.ticketEvent({ system: 'servicenow', deliveryId: '01HZ/with:odd chars' })).toBe(id.replace('zendesk', 'servicenow'));
    expect(jobIds.ticketEvent({ system: 'zendesk', deliveryId: 'another' })).not.toBe(id);
  });

  it("gives a delivery's write-back and its key note a job each, one per delivery", () => {
    const event = { system: 'zendesk' as const, deliveryId: 'd-1' };
    expect(jobIds.ticketWrite(event)).toBe(`write-${jobIds.ticketEvent(event)}`);
    expect(jobIds.ticketWriteNote(event)).toBe(`note-${jobIds.ticketEvent(event)}`);
    expect(jobIds.ticketWriteNote({ ...event, deliveryId: 'd-2' })).not.toBe(jobIds.ticketWriteNote(event));
  });

  it('collapses the end event and the poll of one session into one pull; a survey and a resync get their own', () => {
    expect(jobIds.sessionEnd({ lsid: 'abc', trigger: 'event' })).toBe('pull-abc');
    expect(jobIds.sessionEnd({ lsid: 'abc', trigger: 'poll' })).toBe('pull-abc');
    expect(jobIds.sessionEnd({ lsid: 'abc', trigger: 'survey' })).toBe('survey-abc');
    expect(jobIds.sessionEnd({ lsid: 'abc', trigger: 'resync' }, '1700000000000')).toBe('resync-abc-1700000000000');
  });

  it('keys a recording by session, kind and instance, and a delivery by escalation', () => {
    expect(jobIds.recording('abc', 'showMyScreen', 2)).toBe('rec-abc-showMyScreen-2');
    expect(jobIds.chatDelivery('esc-1')).toBe('deliver-esc-1');
  });
});
