import { BeyondTrustApiError, BeyondTrustResponseError } from '../../../src/beyondtrust/beyondtrust.errors';
import { customFieldParams } from '../../../src/beyondtrust/command.client';
import { mapSupportSession } from '../../../src/beyondtrust/reporting.client';
import { MAX_XML_BYTES, parseApplianceXml, timestamp } from '../../../src/beyondtrust/xml';

const NS = 'xmlns="https://www.beyondtrust.com/namespaces/API/reporting"';

describe('parseApplianceXml', () => {
  it('drops the namespace, keeps attributes and keeps values as strings', () => {
    const { root, node } = parseApplianceXml(
      `<?xml version="1.0"?><ns:session_key xmlns:ns="https://www.beyondtrust.com/namespaces/API/command"><ns:queue available="1">team</ns:queue><ns:external_key>00123</ns:external_key></ns:session_key>`,
    );
    expect(root).toBe('session_key');
    expect(node).toEqual({ queue: { '#text': 'team', available: '1' }, external_key: '00123' });
  });

  it('makes repeated elements arrays even when there is only one, and none when empty', () => {
    const one = parseApplianceXml(`<logged_in_reps><rep id="1"><type>Normal</type></rep></logged_in_reps>`).node;
    expect(Array.isArray(one.rep)).toBe(true);
    expect(parseApplianceXml(`<logged_in_reps></logged_in_reps>`).node.rep).toBeUndefined();
  });

  it('turns an <error> root into an exception with the appliance message', () => {
    expect(() => parseApplianceXml(`<error xmlns="x">Invalid queue ID</error>`, 'generate_session_key')).toThrow(
      new BeyondTrustApiError('Invalid queue ID'),
    );
  });

  it('turns an <error> inside a list into an exception, never an empty list', () => {
    const call = () => parseApplianceXml(`<session_list ${NS}><error>Invalid date</error></session_list>`, 'SupportSession');
    expect(call).toThrow(BeyondTrustApiError);
    expect(call).toThrow('Invalid date');
  });

  // Every answer the guide says "will contain an <error> element describing the problem".
  it.each([
    ['get_logged_in_reps', 'logged_in_reps'],
    ['get_support_teams', 'support_teams'],
    ['get_session_attributes', 'custom_attributes'],
    ['get_appliances', 'appliances'],
    ['get_connected_client_list', 'connected_client_list'],
    ['get_connected_clients', 'connected_clients'],
    ['SupportSession', 'session_list'],
    ['SupportSessionListing', 'session_summary_list'],
    ['SupportSessionSummary', 'summary_list'],
    ['SupportCustExitSurvey', 'exit_survey_list'],
    ['SupportTeam', 'team_activity_list'],
    ['PresentationSessionListing', 'presentation_summary_list'],
    ['LicenseUsage', 'license_usage'],
    ['ArchiveListing', 'archives'],
  ])('%s: an <error> inside <%s> is an exception naming the operation', (operation, root) => {
    const error = (() => {
      try {
        parseApplianceXml(
          `<${root} xmlns="https://www.beyondtrust.com/namespaces/API/x"><error>Something went wrong</error></${root}>`,
          operation,
        );
      } catch (e) {
        return e as BeyondTrustApiError;
      }
    })();
    expect(error).toBeInstanceOf(BeyondTrustApiError);
    expect(error).toMatchObject({ message: 'Something went wrong', operation, retryable: false });
  });

  it.each([
    'set_rep_status',
    'join_session',
    'transfer_session',
    'set_session_attributes',
    'terminate_session',
    'set_failover_role',
    'import_jump_shortcut',
  ])('%s: a root <error> (instead of <success>) is an exception', (operation) => {
    expect(() => parseApplianceXml('<error>Session not found</error>', operation)).toThrow(new BeyondTrustApiError('Session not found'));
  });

  it('refuses a DOCTYPE, so entity expansion never starts', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><session_list>&lol2;</session_list>`;
    expect(() => parseApplianceXml(bomb)).toThrow(BeyondTrustResponseError);
    expect(() => parseApplianceXml(bomb)).toThrow(/DOCTYPE/);
  });

  it('refuses malformed and truncated documents with a clear error', () => {
    expect(() => parseApplianceXml('<session_list><session lsid="a"></sesion></session_list>')).toThrow(/malformed XML/);
    expect(() => parseApplianceXml('<session_list><session lsid="a"><lseq>1</lseq></session>')).toThrow(
      /malformed XML: Unclosed tag 'session_list'/,
    );
    expect(() => parseApplianceXml('not xml at all')).toThrow(/malformed XML/);
    expect(() => parseApplianceXml('<a/><b/>')).toThrow(/one root element/);
  });

  it('refuses a document past the size cap before parsing it', () => {
    const huge = `<session_list>${' '.repeat(MAX_XML_BYTES)}</session_list>`;
    expect(() => parseApplianceXml(huge)).toThrow(/exceeds/);
  });

  it('reads timestamps as ISO text and UNIX seconds', () => {
    const { node } = parseApplianceXml(`<x><start_time timestamp="1475308800">2016-10-01T08:00:00+00:00</start_time></x>`);
    expect(timestamp(node.start_time)).toEqual({ iso: '2016-10-01T08:00:00+00:00', unix: 1475308800 });
  });

  // Every form the guide shows or allows for a time; none may become NaN.
  it.each([
    ['ISO text with a timestamp attribute', '<t timestamp="1475308800">2016-10-01T08:00:00+00:00</t>', '2016-10-01T08:00:00+00:00'],
    ['ISO text with a ts attribute (command API)', '<t ts="1475308800">2016-10-01T10:00:00+02:00</t>', '2016-10-01T10:00:00+02:00'],
    ['UNIX seconds as the text (<expires>, <timestamp>)', '<t>1475308800</t>', '2016-10-01T08:00:00Z'],
    ['ISO text alone', '<t>2016-10-01T08:00:00Z</t>', '2016-10-01T08:00:00Z'],
    ['"system time" text beside a UTC attribute', '<t timestamp="1475308800">2016-10-01 04:00:00</t>', '2016-10-01T08:00:00Z'],
    ['zone-less text alone, read as UTC', '<t>2016-10-01 08:00:00</t>', '2016-10-01T08:00:00Z'],
  ])('reads a time given as %s', (_form, xml, iso) => {
    expect(timestamp(parseApplianceXml(`<x>${xml}</x>`).node.t)).toEqual({ iso, unix: 1475308800 });
  });

  it('reads no time at all as undefined, never NaN', () => {
    const { node } = parseApplianceXml('<x><a>soon</a><b/><c timestamp="later">never</c></x>');
    expect([timestamp(node.a), timestamp(node.b), timestamp(node.c), timestamp(undefined)]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('decodes numeric character references and the predefined entities in text and attributes', () => {
    const { node } = parseApplianceXml(
      `<x><name code_name="caf&#233;">Zo&#235; &#x263A; &#x1F600; &amp; &lt;b&gt; &quot;q&quot; &apos;s</name><key>&amp;#233;</key></x>`,
    );
    expect(node.name).toEqual({ '#text': 'Zoë ☺ 😀 & <b> "q" \'s', code_name: 'café' });
    // One pass: an escaped ampersand followed by "#233;" is that text, not é.
    expect(node.key).toBe('&#233;');
  });

  it('leaves a reference to a character XML cannot carry as it was', () => {
    expect(parseApplianceXml('<x><body>a&#0;b&#xD800;c</body></x>').node.body).toBe('a&#0;b&#xD800;c');
  });

  it('keeps the whitespace around a chat body and trims every other value', () => {
    const { node } = parseApplianceXml(`<x><event timestamp=" 1 ">
      <performed_by type="customer">  Casey  </performed_by>
      <body>  two spaces before and after  \n</body>
    </event></x>`);
    expect((node.event as unknown[])[0]).toEqual({
      timestamp: '1',
      performed_by: { '#text': 'Casey', type: 'customer' },
      body: '  two spaces before and after  \n',
    });
  });
});

describe('SupportSession mapping (guide: /session_list/session)', () => {
  const xml = `<session_list ${NS}>
    <session lsid="c69a8e10bea9428f816cfababe9815fe">
      <session_type>support</session_type><lseq>42</lseq>
      <start_time timestamp="1475308800">2016-10-01T08:00:00+00:00</start_time>
      <end_time timestamp="1475309400">2016-10-01T08:10:00+00:00</end_time>
      <duration>00:10:00</duration>
      <public_site id="1">Default</public_site>
      <external_key>INC0012345</external_key>
      <custom_attributes><custom_attribute display_name="Ticket ID" code_name="ticket_id">12345</custom_attribute></custom_attributes>
      <session_chat_view_url>https://s/view</session_chat_view_url>
      <session_recording_download_url>https://s/rec</session_recording_download_url>
      <show_my_screen_recordings><show_my_screen_recording instance="0"><download_url>https://s/sms0</download_url><view_url>https://s/v0</view_url></show_my_screen_recording></show_my_screen_recordings>
      <command_shell_recordings><command_shell_recording instance="1"><download_url>https://s/sh1</download_url><view_url>https://s/vs1</view_url></command_shell_recording></command_shell_recordings>
      <file_transfer_count>1</file_transfer_count><file_move_count>0</file_move_count><file_delete_count>0</file_delete_count>
      <primary_customer gsnumber="21">Casey</primary_customer>
      <primary_rep gsnumber="11" id="1">Ada</primary_rep>
      <primary_team id="2">Escalations</primary_team>
      <customer_list><customer gsnumber="21"><username>Casey</username><public_ip>203.0.113.7</public_ip><os>Windows 11</os><primary_cust>1</primary_cust><info><name>Casey</name><company>ACME</company></info></customer></customer_list>
      <rep_list><representative gsnumber="11" id="1"><username>ada</username><public_display_name>Ada</public_display_name><private_display_name>Ada P</private_display_name><session_owner>1</session_owner><primary_rep>1</primary_rep><seconds_involved>590</seconds_involved></representative></rep_list>
      <team_list><team id="1" primary_team="0">Service Desk</team><team id="2" primary_team="1">Escalations</team></team_list>
      <cust_survey_list><cust_exit_survey><question_list><question id="1"><name>satisfied</name><type>radio</type><label>Satisfied?</label><answer_list><answer>yes</answer></answer_list></question></question_list></cust_exit_survey></cust_survey_list>
      <session_details>
        <event timestamp="1475308801" event_type="Chat Message" unlisted="kept"><performed_by gsnumber="21" type="customer">Casey</performed_by><body>Hello &amp; thanks</body></event>
        <event timestamp="1475308802" event_type="Chat Message"><performed_by gsnumber="11" type="representative">Ada</performed_by><encoded_body>${Buffer.from('bin\u0001ary').toString('base64')}</encoded_body></event>
        <event timestamp="1475308803" event_type="File Upload"><performed_by gsnumber="11" type="representative">Ada</performed_by><filename>fix.ps1</filename><filesize>2048</filesize></event>
        <event timestamp="1475308804" event_type="Conference Member Added"><data><value name="username" value="bob"/><value name="user_id" value="2"/></data></event>
        <event timestamp="1475308805" event_type="System Information Retrieved"><system_information><category name="Drives"><description><field>Drive</field><field>Type</field></description><data><row><field>C:\\</field><field>Local Disk</field></row></data></category></system_information></event>
      </session_details>
    </session>
  </session_list>`;
  const sut = mapSupportSession((parseApplianceXml(xml).node.session as never[])[0]);

  it('maps the session facts', () => {
    expect(sut).toMatchObject({
      lsid: 'c69a8e10bea9428f816cfababe9815fe',
      lseq: 42,
      startTime: { unix: 1475308800 },
      endTime: { unix: 1475309400 },
      duration: '00:10:00',
      externalKey: 'INC0012345',
      customAttributes: [{ codeName: 'ticket_id', displayName: 'Ticket ID', value: '12345' }],
      recordingDownloadUrl: 'https://s/rec',
      showMyScreenRecordings: [{ instance: 0, downloadInstance: 0, downloadUrl: 'https://s/sms0' }],
      // A list whose lowest instance is 1 counts from 1 (the CommandShellRecording section's reading).
      commandShellRecordings: [{ instance: 1, downloadInstance: 0, downloadUrl: 'https://s/sh1' }],
      primaryRep: { id: '1', name: 'Ada' },
      primaryTeam: { id: '2', name: 'Escalations' },
      customers: [{ username: 'Casey', publicIp: '203.0.113.7', primary: true, info: { name: 'Casey', company: 'ACME' } }],
      reps: [{ id: '1', username: 'ada', sessionOwner: true, primaryRep: true, secondsInvolved: 590 }],
      teams: [
        { id: '1', name: 'Service Desk', primary: false },
        { id: '2', name: 'Escalations', primary: true },
      ],
      customerSurveys: [{ answers: [{ name: 'satisfied', answers: ['yes'] }] }],
    });
  });

  it('maps events: speakers, decoded bodies, files, data and system information', () => {
    const [chat, encoded, file, member, sys] = sut.events;
    expect(chat).toMatchObject({
      type: 'Chat Message',
      timestamp: 1475308801,
      performedBy: { type: 'customer', name: 'Casey' },
      body: 'Hello & thanks',
      // An attribute the element table does not list is kept, not interpreted.
      attributes: { unlisted: 'kept' },
    });
    expect(encoded.body).toBe('bin\u0001ary');
    expect(file).toMatchObject({ filename: 'fix.ps1', filesize: 2048 });
    expect(member.data).toEqual({ username: 'bob', user_id: '2' });
    expect(sys.systemInformation).toEqual([{ name: 'Drives', fields: ['Drive', 'Type'], rows: [['C:\\', 'Local Disk']] }]);
  });

  it('leaves endTime empty for a session still in progress', () => {
    const open = parseApplianceXml(`<session_list><session lsid="x"><end_time/></session></session_list>`).node.session as never[];
    expect(mapSupportSession(open[0]).endTime).toBeUndefined();
  });
});

describe('custom fields', () => {
  it('passes fields within the guide limits as session.custom.*', () => {
    expect(customFieldParams({ external_key: 'INC1', ticket_id: '12', skip: undefined }, 'op')).toEqual({
      'session.custom.external_key': 'INC1',
      'session.custom.ticket_id': '12',
    });
  });

  it('refuses a field over 1024 characters, a total over 10 KB and a bad code name', () => {
    expect(() => customFieldParams({ a: 'x'.repeat(1025) }, 'op')).toThrow(/1025 characters/);
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, 'x'.repeat(1000)]));
    expect(() => customFieldParams(eleven, 'op')).toThrow(/total 11000 bytes/);
    expect(() => customFieldParams({ 'bad name': 'x' }, 'op')).toThrow(/code name/);
  });
});
