import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { script, updateSetXml } from '../../scripts/servicenow-update-set';
import { FakeAppliance } from '../fakes/beyondtrust/fake-appliance';
import { FakeServiceNow } from '../fakes/servicenow/fake-servicenow';
import { RunningApp, startApp, TEST_API_TOKEN } from '../support/app';
import { ROOT, until } from '../support/child';
import { applianceEnv, servicenowEnv } from '../support/fake-env';
import { GlideRecordData, runGlideScript } from '../support/glide';

const EVENTS_TOKEN = 'bt-events-token-0123456789';
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, trimValues: false });

type Fields = Record<string, string | { '#text'?: string; '@display_value'?: string }>;
const text = (v: Fields[string] | undefined) => (typeof v === 'object' ? (v['#text'] ?? '') : (v ?? ''));

/** What ServiceNow's import reads: the remote update set and, per update, the record in its payload. */
function parseUpdateSet(xml: string) {
  const unload = parser.parse(xml).unload as { sys_remote_update_set: Fields; sys_update_xml: Fields[] };
  const updates = unload.sys_update_xml.map((u) => {
    const payload = text(u.payload);
    expect(XMLValidator.validate(payload)).toBe(true);
    const recordUpdate = parser.parse(payload).record_update as Record<string, Fields> & { '@table': string };
    const record = recordUpdate[recordUpdate['@table']];
    return { update: u, table: recordUpdate['@table'], record };
  });
  return { set: unload.sys_remote_update_set, updates };
}

describe('ServiceNow update set (npm run servicenow-update-set)', () => {
  const xml = updateSetXml();
  const { set, updates } = parseUpdateSet(xml);
  const scriptOf = (name: string) => text(updates.find((u) => text(u.record.name) === name)!.record.script);

  it('is well-formed and carries each record the import expects', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(text(set.state)).toBe('loaded');
    expect(text(set.sys_id)).toMatch(/^[0-9a-f]{32}$/);
    expect(text(set.application_scope)).toBe('global');
    expect(Number(text(set.updates))).toBe(updates.length);
    for (const { update, table, record } of updates) {
      expect(text(update.action)).toBe('INSERT_OR_UPDATE');
      expect(text(update.remote_update_set)).toBe(text(set.sys_id));
      expect(text(record.sys_id)).toMatch(/^[0-9a-f]{32}$/);
      expect(text(update.name)).toBe(`${table}_${text(record.sys_id)}`);
      expect(text(record.sys_class_name)).toBe(table);
      expect(text(update.target_name)).toBe(text(record.name));
    }
    expect(updates.map((u) => [u.table, text(u.record.name)])).toEqual([
      ['sys_properties', 'x_rsb.url'],
      ['sys_properties', 'x_rsb.webhook_secret'],
      ['sys_properties', 'x_rsb.api_url'],
      ['sys_properties', 'x_rsb.api_token'],
      ['sys_script', 'rs-bridge: request a session key'],
      ['sys_ui_action', 'Request remote support'],
      ['sys_ui_action', 'Remote support sessions'],
    ]);
    const byName = Object.fromEntries(updates.map((u) => [text(u.record.name), u.record]));
    expect(text(byName['x_rsb.api_token'].type)).toBe('password2');
    expect(text(byName['x_rsb.webhook_secret'].type)).toBe('password2');
    for (const name of ['x_rsb.url', 'x_rsb.webhook_secret', 'x_rsb.api_url', 'x_rsb.api_token']) expect(text(byName[name].value)).toBe('');
    expect(byName['rs-bridge: request a session key']).toMatchObject({ collection: 'incident', when: 'async', action_update: 'true' });
    expect(byName['Request remote support']).toMatchObject({ table: 'incident', form_button: 'true', client: 'false', active: 'true' });
    expect(byName['Remote support sessions']).toMatchObject({ table: 'incident', form_link: 'true', active: 'true' });
  });

  it('carries the Business Rule of docs/servicenow.md', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'servicenow.md'), 'utf8');
    expect(docs).toContain(script('business-rule.js').trim());
    expect(scriptOf('rs-bridge: request a session key')).toBe(script('business-rule.js'));
  });

  describe('its scripts, against stand-ins of the Glide APIs with the real bridge and fakes behind them', () => {
    let appliance: FakeAppliance;
    let servicenow: FakeServiceNow;
    let sut: RunningApp;
    let properties: Record<string, string>;

    beforeAll(async () => {
      appliance = await new FakeAppliance().start();
      servicenow = await new FakeServiceNow().start();
      sut = await startApp({
        ...applianceEnv(appliance),
        ...servicenowEnv(servicenow),
        BT_EVENTS_TOKEN: EVENTS_TOKEN,
        BT_POLL_INTERVAL_SECONDS: '0',
      });
      appliance.sendOutboundEventsTo(`${sut.url}/webhooks/beyondtrust`, EVENTS_TOKEN);
      properties = {
        'x_rsb.url': `${sut.url}/webhooks/servicenow`,
        'x_rsb.webhook_secret': servicenow.webhookSecret,
        'x_rsb.api_url': `${sut.url}/`,
        'x_rsb.api_token': TEST_API_TOKEN,
      };
    });
    afterAll(async () => {
      await sut.close();
      await Promise.all([appliance.stop(), servicenow.stop()]);
    });

    const incident = (number: string): GlideRecordData => {
      const record = servicenow.createRecord(number);
      return {
        table: 'incident',
        sys_id: record.sys_id,
        values: { number, short_description: 'VPN drops every hour', priority: '2', category: 'network' },
        display: { priority: '2 - High', assignment_group: 'Service Desk' },
        caller: { name: 'Casey Customer', email: 'casey@example.com' },
      };
    };
    const recordOf = (sysId: string) => [...servicenow.records.values()].find((r) => r.sys_id === sysId)!;

    it('the Business Rule signs its request and the key lands on the incident', async () => {
      const current = incident('INC0040001');
      const run = await runGlideScript(scriptOf('rs-bridge: request a session key'), current, properties);
      expect(run.requests.map((r) => r.status)).toEqual([202]);
      expect(run.log).toEqual([]);
      await until(async () => recordOf(current.sys_id).comments.length >= 1, 15_000, 'the key comment');
      expect(recordOf(current.sys_id).comments[0]).toMatch(/\d{7}/);
    });

    it('"Request remote support" shows the key at once, and it is on the incident', async () => {
      const current = incident('INC0040002');
      const run = await runGlideScript(scriptOf('Request remote support'), current, properties);
      expect(run.errors).toEqual([]);
      expect(run.info).toEqual([
        expect.stringMatching(/^Session key \d{7} sent to the caller \(http.*\), valid until .*, queue general\.$/),
      ]);
      const shortKey = /\d{7}/.exec(run.info[0])![0];
      expect(recordOf(current.sys_id).comments.join('\n')).toContain(shortKey);
      expect(run.redirect).toBe('current');
      expect(run.requests[0].headers).toMatchObject({ Authorization: `Bearer ${TEST_API_TOKEN}`, 'Idempotency-Key': expect.any(String) });

      const sessions = () => runGlideScript(scriptOf('Remote support sessions'), current, properties);
      expect((await sessions()).info).toEqual([expect.stringMatching(new RegExp(`^Session key ${shortKey}: issued, not used yet`))]);
      const s = appliance.startSession({ externalKey: 'INC0040002' });
      appliance.joinRep(s.lsid, '2');
      await until(async () => (await sessions()).info[0]?.includes('in progress with'), 15_000, 'the session in progress');
      expect((await sessions()).info[0]).toBe(`Session key ${shortKey}: in progress with ${appliance.reps[1].username}`);
    });

    it('says what to fix when the token is refused or the bridge is not set up', async () => {
      const current = incident('INC0040003');
      const refused = await runGlideScript(scriptOf('Request remote support'), current, {
        ...properties,
        'x_rsb.api_token': 'wrong-token-000000000000',
      });
      expect(refused.errors).toEqual([expect.stringContaining('rs-bridge does not accept the API token in x_rsb.api_token.')]);
      expect(recordOf(current.sys_id).comments).toEqual([]);
      const unset = await runGlideScript(scriptOf('Remote support sessions'), current, {});
      expect(unset.errors).toEqual([expect.stringContaining('set the system property x_rsb.api_url')]);
      expect(unset.requests).toEqual([]);
    });

    it('a click that failed half-way is retried with the same Idempotency-Key, so no second key is made', async () => {
      const current = incident('INC0040004');
      servicenow.failNext(1, 403);
      const first = await runGlideScript(scriptOf('Request remote support'), current, properties);
      expect(first.errors).toEqual([expect.stringContaining('click again to finish')]);
      const second = await runGlideScript(scriptOf('Request remote support'), current, properties, first.clientData);
      expect(second.errors).toEqual([]);
      expect(second.requests[0].headers['Idempotency-Key']).toBe(first.requests[0].headers['Idempotency-Key']);
      expect(appliance.requests.filter((r) => r.params['session.custom.external_key'] === 'INC0040004')).toHaveLength(1);
    });
  });
});
