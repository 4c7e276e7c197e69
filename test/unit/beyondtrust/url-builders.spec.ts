import { checkHealthUrl, clientScriptUrl, startSessionUrl } from '../../../src/beyondtrust/url-builders';

const SITE = 'https://support.example.com/';
const query = (url: string) => Object.fromEntries(new URL(url).searchParams);

describe('Session Generation API URLs', () => {
  it('builds the guide examples: by representative, by session key with an external key, by issue', () => {
    expect(startSessionUrl(SITE, { rep: { id: 1, name: 'Admin' } }, { locale: 'en-us' })).toBe(
      'https://support.example.com/api/start_session?id=1&name=Admin&locale=en-us',
    );
    expect(startSessionUrl(SITE, { shortKey: '1234567' }, { externalKey: '1234' })).toBe(
      'https://support.example.com/api/start_session?short_key=1234567&session.custom.external_key=1234',
    );
    const issue = startSessionUrl(
      SITE,
      { issue: { codeName: 'printing' } },
      { customer: { name: 'John Doe', details: 'I need support' }, priority: 1, skills: ['a', 'b'], timezoneOffset: -300 },
    );
    expect(query(issue)).toEqual({
      issue_menu: '1',
      codeName: 'printing',
      'customer.name': 'John Doe',
      'customer.details': 'I need support',
      'session.priority': '1',
      'session.skills': 'a,b',
      timezone_offset: '-300',
    });
  });

  it('starts click-to-chat without JavaScript (c2cjs=1) and carries locale, chat locale and platform', () => {
    expect(
      query(
        startSessionUrl(SITE, { shortKey: '2962035' }, { clickToChat: true, locale: 'en-us', chatLocale: 'cs-cs', platform: 'winNT-64' }),
      ),
    ).toEqual({ short_key: '2962035', c2cjs: '1', locale: 'en-us', chat_locale: 'cs-cs', platform: 'winNT-64' });
  });

  it('refuses values the guide does not allow', () => {
    expect(() => startSessionUrl(SITE, { shortKey: '1234567' }, { customer: { details: 'é'.repeat(513) } })).toThrow(/1024 bytes/);
    expect(() => startSessionUrl(SITE, { shortKey: 'abc' })).toThrow(/seven-digit/);
    expect(() => startSessionUrl(SITE, { shortKey: '1234567' }, { customer: { name: 'x'.repeat(101) } })).toThrow(/customer.name/);
    expect(() => startSessionUrl(SITE, { shortKey: '1234567' }, { externalKey: 'x'.repeat(1025) })).toThrow(/1024/);
  });
});

describe('Client Scripting API URLs', () => {
  it('starts a Jump Item session by hostname, carrying the ticket as external key', () => {
    const url = clientScriptUrl(
      SITE,
      { action: 'start_jump_item_session', client: { hostname: 'ABCDEF02' } },
      { externalKey: 'INC42', fields: { ticket_id: '42' } },
    );
    expect(url).toBe(
      'https://support.example.com/api/client_script?type=rep&operation=generate&action=start_jump_item_session&client.hostname=ABCDEF02&session.custom.external_key=INC42&session.custom.ticket_id=42',
    );
  });

  it('builds each Jump kind with its parameters', () => {
    expect(query(clientScriptUrl(SITE, { action: 'push_and_start_remote', target: 'ABCDEF02', jumpoint: 'Network01' }))).toMatchObject({
      action: 'push_and_start_remote',
      target: 'ABCDEF02',
      jumpoint: 'Network01',
    });
    expect(
      query(
        clientScriptUrl(SITE, {
          action: 'start_rdp_session',
          target: 'ABCDEF02',
          username: 'jsmith',
          displaySize: '1024x768',
          quality: 'quality',
          console: true,
        }),
      ),
    ).toMatchObject({
      display_size: '1024x768',
      quality: 'quality',
      console: 'yes',
      username: 'jsmith',
    });
    expect(
      query(clientScriptUrl(SITE, { action: 'start_shell_jump_session', target: 'sw1', protocol: 'telnet', port: 40, terminal: 'vt100' })),
    ).toMatchObject({ protocol: 'telnet', port: '40', terminal: 'vt100' });
    expect(query(clientScriptUrl(SITE, { action: 'start_vpro_session', target: 'pc1', jumpoint: 'Network01' }))).toMatchObject({
      target: 'pc1',
      jumpoint: 'Network01',
    });
    expect(query(clientScriptUrl(SITE, { action: 'push_and_start_local', hostname: 'PC7' }))).toMatchObject({ hostname: 'PC7' });
    expect(query(clientScriptUrl(SITE, { action: 'start_vnc_session', target: 'mac1', port: 5901 }))).toMatchObject({ port: '5901' });
  });

  it('builds web console scripts: type web_console goes with operation execute', () => {
    expect(
      clientScriptUrl(
        SITE,
        { action: 'start_jump_item_session', client: { hostname: 'ABCDEF02' } },
        { externalKey: 'INC42' },
        'web_console',
      ),
    ).toBe(
      'https://support.example.com/api/client_script?type=web_console&operation=execute&action=start_jump_item_session&client.hostname=ABCDEF02&session.custom.external_key=INC42',
    );
    expect(query(clientScriptUrl(SITE, { action: 'generate_session_key' }, {}, 'rep'))).toMatchObject({
      type: 'rep',
      operation: 'generate',
    });
  });

  it('deletes the script file with no other parameter and no session attributes', () => {
    expect(clientScriptUrl(SITE, { action: 'delete_script_file' }, { externalKey: 'INC42' })).toBe(
      'https://support.example.com/api/client_script?type=rep&operation=generate&action=delete_script_file',
    );
  });

  it('refuses incomplete scripts', () => {
    expect(() => clientScriptUrl(SITE, { action: 'start_jump_item_session' })).toThrow(/client\.\* criterion/);
    expect(() => clientScriptUrl(SITE, { action: 'start_rdp_session', target: '' })).toThrow(/needs a target/);
    expect(() => clientScriptUrl(SITE, { action: 'start_rdp_session', target: 'x', displaySize: 'huge' })).toThrow(/display_size/);
    expect(() => clientScriptUrl(SITE, { action: 'login', username: 'u' })).toThrow(/together/);
  });

  it('points at the plain health check', () => {
    expect(checkHealthUrl(SITE)).toBe('https://support.example.com/check_health');
  });
});
