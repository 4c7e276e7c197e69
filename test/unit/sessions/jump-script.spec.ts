import { clientScriptUrl } from '../../../src/beyondtrust/url-builders';
import { jumpScript } from '../../../src/sessions/jump.service';

const params = (url: string) => Object.fromEntries(new URL(url).searchParams);

describe('jumpScript', () => {
  it('pushes and starts a remote client on a host by default', () => {
    expect(
      params(
        clientScriptUrl('https://support.example.com', jumpScript({ hostname: 'casey-pc.corp', jumpoint: 'HQ' }), { externalKey: 'INC1' }),
      ),
    ).toEqual({
      type: 'rep',
      operation: 'generate',
      action: 'push_and_start_remote',
      target: 'casey-pc.corp',
      jumpoint: 'HQ',
      'session.custom.external_key': 'INC1',
    });
  });

  it('starts RDP or Shell Jump when the method says so, with the username', () => {
    expect(jumpScript({ ip: '10.0.0.7', method: 'rdp', username: 'ada' })).toEqual({
      action: 'start_rdp_session',
      target: '10.0.0.7',
      jumpoint: undefined,
      username: 'ada',
    });
    expect(jumpScript({ hostname: 'db1', method: 'shell' })).toMatchObject({ action: 'start_shell_jump_session', target: 'db1' });
  });

  it('prefers a Jump Item given by search string, tag or comment', () => {
    expect(jumpScript({ hostname: 'ignored', jumpItemTag: 'kiosk' })).toEqual({
      action: 'start_jump_item_session',
      searchString: undefined,
      client: { tag: 'kiosk', comments: undefined },
    });
  });
});
