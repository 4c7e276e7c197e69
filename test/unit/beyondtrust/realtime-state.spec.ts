import { parseStateMessage } from '../../../src/beyondtrust/realtime-state.client';

describe('Real-Time State API messages', () => {
  it('keeps ids up to 18446744073709551615 exact and makes every id field a string', () => {
    const message = parseStateMessage(
      '{"type":"model_update","insert":{"representative_support_session":{"18446744073709551615":' +
        '{"representative_id":18446744073709551614,"support_session_id":9007199254740993,"queue_id":7,"created_timestamp":1475308800,"priority":2}}},' +
        '"delete":{"support_session":["18446744073709551613"]}}',
    );
    expect(message).toEqual({
      type: 'model_update',
      insert: {
        representative_support_session: {
          '18446744073709551615': {
            representative_id: '18446744073709551614',
            support_session_id: '9007199254740993',
            queue_id: '7',
            created_timestamp: 1475308800,
            priority: 2,
          },
        },
      },
      delete: { support_session: ['18446744073709551613'] },
    });
  });
});
