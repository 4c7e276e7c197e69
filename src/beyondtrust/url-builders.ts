import { BeyondTrustApiError } from './beyondtrust.errors';
import { customFieldParams } from './command.client';
import { encodeParams, Params } from './transport';

/**
 * URLs a person opens (a customer starting a session, a representative running a console script).
 * No request is made and no token is involved: these URLs carry no credential.
 */

const base = (siteUrl: string) => siteUrl.replace(/\/$/, '');
const limit = (value: string | undefined, max: number, name: string, operation: string) => {
  if (value !== undefined && value.length > max)
    throw new BeyondTrustApiError(`${name} is ${value.length} characters; at most ${max}`, operation);
};

export type StartSessionTarget =
  { rep: { id: number | string; name: string } } | { shortKey: string } | { issue: { codeName: string } | { id: number | string } };

export interface StartSessionOptions {
  clickToChat?: boolean;
  customer?: { name?: string; company?: string; companyCode?: string; details?: string };
  locale?: string;
  chatLocale?: string;
  platform?: 'winNT-32' | 'winNT-64';
  externalKey?: string;
  custom?: Record<string, string>;
  priority?: 1 | 2 | 3;
  skills?: string[];
  /** Minutes east of UTC. */
  timezoneOffset?: number;
}

/** Session Generation API: `/api/start_session` by representative, session key or issue. */
export function startSessionUrl(siteUrl: string, target: StartSessionTarget, options: StartSessionOptions = {}): string {
  const op = 'start_session';
  let params: Params;
  if ('rep' in target) params = { id: target.rep.id, name: target.rep.name };
  else if ('shortKey' in target) {
    if (!/^\d{7}$/.test(target.shortKey)) throw new BeyondTrustApiError('short_key must be the seven-digit session key', op);
    params = { short_key: target.shortKey };
  } else params = { issue_menu: 1, ...('codeName' in target.issue ? { codeName: target.issue.codeName } : { id: target.issue.id }) };
  const c = options.customer ?? {};
  limit(c.name, 100, 'customer.name', op);
  limit(c.company, 100, 'customer.company', op);
  limit(c.companyCode, 100, 'customer.company_code', op);
  if (c.details !== undefined && Buffer.byteLength(c.details) > 1024)
    throw new BeyondTrustApiError('customer.details is over 1024 bytes', op);
  Object.assign(params, {
    c2cjs: options.clickToChat ? 1 : undefined,
    'customer.name': c.name,
    'customer.company': c.company,
    'customer.company_code': c.companyCode,
    'customer.details': c.details,
    locale: options.locale,
    chat_locale: options.chatLocale,
    platform: options.platform,
    ...customFieldParams({ external_key: options.externalKey, ...options.custom }, op),
    'session.priority': options.priority,
    'session.skills': options.skills?.join(','),
    timezone_offset: options.timezoneOffset,
  });
  return `${base(siteUrl)}/api/start_session?${encodeParams(params)}`;
}

export type ClientScriptAction =
  | { action: 'login'; mechanism?: 'username_password'; username?: string; password?: string }
  | { action: 'generate_session_key'; publicPortalHostname?: string }
  | { action: 'push_and_start_local'; hostname: string }
  | { action: 'push_and_start_remote'; target: string; jumpoint?: string }
  | {
      action: 'start_jump_item_session';
      jumpMethod?: 'push' | 'local_push' | 'pinned' | 'rdp' | 'vnc' | 'shelljump';
      credentialId?: string;
      searchString?: string;
      client?: { comments?: string; hostname?: string; privateIp?: string; publicIp?: string; tag?: string };
    }
  | {
      action: 'start_rdp_session';
      target: string;
      jumpoint?: string;
      username?: string;
      displaySize?: string;
      quality?: 'low' | 'performance' | 'performance_quality' | 'quality';
      console?: boolean;
    }
  | { action: 'start_vnc_session'; target: string; jumpoint?: string; port?: number }
  | {
      action: 'start_shell_jump_session';
      target: string;
      jumpoint?: string;
      username?: string;
      protocol?: 'ssh' | 'telnet';
      port?: number;
      terminal?: 'xterm' | 'vt100';
    }
  | { action: 'start_vpro_session'; target: string; jumpoint: string }
  | { action: 'delete_script_file' };

/**
 * Which console runs the script. The guide: type `rep` goes with operation `generate` (a .brcs file the
 * desktop representative console runs); type `web_console` (API 1.18.0) goes with operation `execute`.
 */
export type ClientScriptClient = 'rep' | 'web_console';

/**
 * Client Scripting API: `/api/client_script?type=rep&operation=generate&action=...` (or
 * `type=web_console&operation=execute`). Custom attributes (external key included) ride along, so a Jump
 * session started from a ticket comes back to it.
 */
export function clientScriptUrl(
  siteUrl: string,
  script: ClientScriptAction,
  custom: { externalKey?: string; fields?: Record<string, string> } = {},
  client: ClientScriptClient = 'rep',
): string {
  const op = `client_script ${script.action}`;
  const params: Params = { type: client, operation: client === 'rep' ? 'generate' : 'execute', action: script.action };
  switch (script.action) {
    case 'login':
      if (
        [script.mechanism, script.username, script.password].some((v) => v !== undefined) &&
        [script.mechanism, script.username, script.password].some((v) => v === undefined)
      ) {
        throw new BeyondTrustApiError('login takes mechanism, username and password together or none of them', op);
      }
      Object.assign(params, { mechanism: script.mechanism, username: script.username, password: script.password });
      break;
    case 'generate_session_key':
      params.public_portal_hostname = script.publicPortalHostname;
      break;
    case 'push_and_start_local':
      limit(script.hostname, 255, 'hostname', op);
      params.hostname = script.hostname;
      break;
    case 'push_and_start_remote':
      Object.assign(params, { target: script.target, jumpoint: script.jumpoint });
      break;
    case 'start_jump_item_session': {
      const c = script.client ?? {};
      const clientFields = {
        'client.comments': c.comments,
        'client.hostname': c.hostname,
        'client.private_ip': c.privateIp,
        'client.public_ip': c.publicIp,
        'client.tag': c.tag,
      };
      for (const [k, v] of Object.entries(clientFields)) limit(v, 255, k, op);
      if (Object.values(clientFields).every((v) => v === undefined) && script.searchString === undefined) {
        throw new BeyondTrustApiError('start_jump_item_session needs a client.* criterion or a search_string', op);
      }
      Object.assign(params, {
        'jump.method': script.jumpMethod,
        credential_id: script.credentialId,
        search_string: script.searchString,
        ...clientFields,
      });
      break;
    }
    case 'start_rdp_session':
      if (script.displaySize !== undefined && !/^(primary_display|all_displays|\d+x\d+)$/.test(script.displaySize)) {
        throw new BeyondTrustApiError('display_size must be primary_display, all_displays or <width>x<height>', op);
      }
      Object.assign(params, {
        target: script.target,
        jumpoint: script.jumpoint,
        username: script.username,
        display_size: script.displaySize,
        quality: script.quality,
        console: script.console === undefined ? undefined : script.console ? 'yes' : 'no',
      });
      break;
    case 'start_vnc_session':
      Object.assign(params, { target: script.target, jumpoint: script.jumpoint, port: script.port });
      break;
    case 'start_shell_jump_session':
      Object.assign(params, {
        target: script.target,
        jumpoint: script.jumpoint,
        username: script.username,
        protocol: script.protocol,
        port: script.port,
        terminal: script.terminal,
      });
      break;
    case 'start_vpro_session':
      Object.assign(params, { target: script.target, jumpoint: script.jumpoint });
      break;
    case 'delete_script_file':
      break;
  }
  if ('target' in script && !script.target) throw new BeyondTrustApiError(`${script.action} needs a target`, op);
  const carriesSession = !['login', 'delete_script_file'].includes(script.action);
  if (carriesSession) Object.assign(params, customFieldParams({ external_key: custom.externalKey, ...custom.fields }, op));
  return `${base(siteUrl)}/api/client_script?${encodeParams(params)}`;
}

/** The appliance's plain HTTP health check (no credentials): 200 when healthy. */
export const checkHealthUrl = (siteUrl: string): string => `${base(siteUrl)}/check_health`;
