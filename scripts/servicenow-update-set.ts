/**
 * Writes the ServiceNow update set (XML) an admin imports in one step (System Update Sets > Retrieved
 * Update Sets > Import Update Set from XML, then Preview and Commit), from the scripts in
 * apps/servicenow/src, so they are reviewed and tested as code and not as XML:
 *
 *   npm run servicenow-update-set [-- --out apps/servicenow/out/rs-bridge-update-set.xml] [--table incident]
 *
 * It carries the system properties (bridge URLs, webhook secret, API token: empty, set after import; a
 * secret never goes in the XML), the Business Rule of docs/servicenow.md (inactive: it needs the
 * condition your process uses) and two UI Actions on the form: the "Request remote support" button and
 * the "Remote support sessions" related link. All in the global scope.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const SRC = resolve(__dirname, '..', 'apps', 'servicenow', 'src');
const UPDATE_SET_NAME = 'rs-bridge remote support';
/** A fixed date keeps the XML the same for the same sources (ServiceNow only displays it). */
const STAMP = '2026-01-01 00:00:00';

export interface UpdateSetRecord {
  table: 'sys_properties' | 'sys_script' | 'sys_ui_action';
  /** What ServiceNow shows as the update's type. */
  type: string;
  targetName: string;
  /** The record's target table (Business Rules and UI Actions), for the update's table column. */
  targetTable?: string;
  fields: Record<string, string | boolean | number>;
}

/** Stable ids, so importing a newer set updates these records instead of adding copies. */
export const sysIdFor = (what: string) => createHash('md5').update(`rs-bridge:${what}`).digest('hex');

const escape = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const element = (name: string, value: string | boolean | number) =>
  value === '' ? `<${name}/>` : `<${name}>${escape(String(value))}</${name}>`;

export const script = (file: string) => readFileSync(join(SRC, file), 'utf8');

export function updateSetRecords(table = 'incident'): UpdateSetRecord[] {
  const property = (name: string, type: 'string' | 'password2', description: string): UpdateSetRecord => ({
    table: 'sys_properties',
    type: 'System Property',
    targetName: name,
    fields: {
      name,
      type,
      value: '',
      description,
      is_private: type === 'password2',
      ignore_cache: false,
      read_roles: 'admin',
      write_roles: 'admin',
    },
  });
  const uiAction = (name: string, actionName: string, file: string, hint: string, link: boolean): UpdateSetRecord => ({
    table: 'sys_ui_action',
    type: 'UI Action',
    targetName: name,
    targetTable: table,
    fields: {
      name,
      action_name: actionName,
      table,
      active: true,
      client: false,
      form_button: !link,
      form_link: link,
      form_context_menu: false,
      list_button: false,
      list_link: false,
      show_insert: false,
      show_update: true,
      order: link ? 200 : 100,
      hint,
      condition: '!current.isNewRecord()',
      script: script(file),
    },
  });
  return [
    property('x_rsb.url', 'string', 'rs-bridge webhook URL for the Business Rule: https://<rs-bridge host>/webhooks/servicenow'),
    property('x_rsb.webhook_secret', 'password2', "rs-bridge's SERVICENOW_WEBHOOK_SECRET (signs the Business Rule's requests)"),
    property('x_rsb.api_url', 'string', 'rs-bridge base URL for the UI Actions: https://<rs-bridge host>'),
    property('x_rsb.api_token', 'password2', "One of rs-bridge's RSB_API_TOKENS (the UI Actions' bearer token)"),
    {
      table: 'sys_script',
      type: 'Business Rule',
      targetName: 'rs-bridge: request a session key',
      targetTable: table,
      fields: {
        name: 'rs-bridge: request a session key',
        collection: table,
        when: 'async',
        action_insert: false,
        action_update: true,
        action_delete: false,
        action_query: false,
        advanced: true,
        // Off until an admin gives it the condition their process uses ("Remote support requested changes to true").
        active: false,
        order: 100,
        priority: 100,
        filter_condition: '',
        condition: '',
        description:
          'Asks rs-bridge for a BeyondTrust session key (signed webhook). Set its condition, then activate it; the UI Action does the same on demand.',
        script: script('business-rule.js'),
      },
    },
    uiAction(
      'Request remote support',
      'x_rsb_request_remote_support',
      'request-remote-support.js',
      'Send the caller a BeyondTrust session key now',
      false,
    ),
    uiAction(
      'Remote support sessions',
      'x_rsb_remote_support_sessions',
      'remote-support-sessions.js',
      "Show this record's remote support keys and sessions",
      true,
    ),
  ];
}

function payload(record: UpdateSetRecord, sysId: string): string {
  const fields = { ...record.fields, sys_class_name: record.table, sys_id: sysId, sys_scope: 'global' };
  const body = Object.entries(fields)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => element(name, value))
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><record_update table="${record.table}"><${record.table} action="INSERT_OR_UPDATE">${body}</${record.table}></record_update>`;
}

export function updateSetXml(table = 'incident'): string {
  const setId = sysIdFor(`update-set:${UPDATE_SET_NAME}`);
  const records = updateSetRecords(table);
  const updates = records.map((record) => {
    const sysId = sysIdFor(`${record.table}:${record.targetName}`);
    return [
      '<sys_update_xml action="INSERT_OR_UPDATE">',
      element('action', 'INSERT_OR_UPDATE'),
      '<application display_value="Global">global</application>',
      element('category', 'customer'),
      element('comments', ''),
      element('name', `${record.table}_${sysId}`),
      element('payload', payload(record, sysId)),
      `<remote_update_set display_value="${escape(UPDATE_SET_NAME)}">${setId}</remote_update_set>`,
      element('replace_on_upgrade', false),
      element('sys_created_by', 'admin'),
      element('sys_created_on', STAMP),
      element('sys_id', sysIdFor(`update:${record.table}:${record.targetName}`)),
      element('sys_mod_count', 0),
      element('sys_updated_by', 'admin'),
      element('sys_updated_on', STAMP),
      element('table', record.targetTable ?? ''),
      element('target_name', record.targetName),
      element('type', record.type),
      element('update_domain', 'global'),
      element('update_guid', sysIdFor(`guid:${record.table}:${record.targetName}`)),
      '<update_set display_value=""/>',
      element('view', ''),
      '</sys_update_xml>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<unload unload_date="${STAMP}">`,
    '<sys_remote_update_set action="INSERT_OR_UPDATE">',
    '<application display_value="Global">global</application>',
    element('application_name', 'Global'),
    element('application_scope', 'global'),
    element('collisions', ''),
    element('commit_date', ''),
    element(
      'description',
      'rs-bridge: "Request remote support" button and "Remote support sessions" link on the form, the session-key Business Rule (inactive), and the x_rsb.* properties to set after commit.',
    ),
    element('inserted', ''),
    element('name', UPDATE_SET_NAME),
    element('origin_sys_id', ''),
    element('release_date', ''),
    element('remote_sys_id', setId),
    element('state', 'loaded'),
    element('summary', ''),
    element('sys_class_name', 'sys_remote_update_set'),
    element('sys_created_by', 'admin'),
    element('sys_created_on', STAMP),
    element('sys_id', setId),
    element('sys_mod_count', 0),
    element('sys_updated_by', 'admin'),
    element('sys_updated_on', STAMP),
    element('update_source', ''),
    element('updates', records.length),
    '</sys_remote_update_set>',
    ...updates,
    '</unload>',
    '',
  ].join('\n');
}

function main(argv: string[]): void {
  const arg = (name: string) => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
  };
  const table = arg('table') ?? 'incident';
  if (!/^[a-z][a-z0-9_]{0,79}$/.test(table)) {
    console.error(`--table must be a ServiceNow table name, got "${table}"`);
    process.exit(2);
  }
  const out = resolve(arg('out') ?? join(SRC, '..', 'out', 'rs-bridge-update-set.xml'));
  const xml = updateSetXml(table);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, xml);
  console.log(
    `wrote ${out} (${xml.length} bytes); import it in System Update Sets > Retrieved Update Sets > Import Update Set from XML, preview, commit, then set the x_rsb.* system properties`,
  );
}

if (require.main === module) main(process.argv.slice(2));
