import { BeyondTrustApiError } from './beyondtrust.errors';
import {
  ApiInfo,
  Appliance,
  ConnectedClient,
  ConnectedClientList,
  GenerateSessionKeyParams,
  HealthCheck,
  JumpShortcutType,
  LoggedInRep,
  SendChatMessageParams,
  SessionAttribute,
  SessionKey,
  SessionMember,
  SupportTeam,
  VirtualCustomerParams,
} from './command.types';
import { BeyondTrustTransport, Params } from './transport';
import { attr, bool, child, int, list, optText, text_, timestamp, XmlNode } from './xml';

export const CUSTOM_FIELD_MAX_CHARS = 1024;
export const CUSTOM_FIELDS_MAX_BYTES = 10 * 1024;
const QUEUE_ID = /^(general|rep:\d+|team:\d+|rep_username:\S+|issue:\S+)$/;

/** Checks `session.custom.*` against the guide's limits before anything is sent. */
export function customFieldParams(fields: Record<string, string | undefined>, operation: string): Params {
  const params: Params = {};
  let total = 0;
  for (const [code, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (!/^[A-Za-z0-9_]+$/.test(code))
      throw new BeyondTrustApiError(`custom field code name "${code}" must be letters, digits and underscores`, operation);
    if (value.length > CUSTOM_FIELD_MAX_CHARS) {
      throw new BeyondTrustApiError(
        `custom field ${code} is ${value.length} characters; the appliance allows ${CUSTOM_FIELD_MAX_CHARS}`,
        operation,
      );
    }
    total += Buffer.byteLength(value, 'utf8');
    params[`session.custom.${code}`] = value;
  }
  if (total > CUSTOM_FIELDS_MAX_BYTES)
    throw new BeyondTrustApiError(`custom fields total ${total} bytes; the appliance allows ${CUSTOM_FIELDS_MAX_BYTES}`, operation);
  return params;
}

function memberParams(member: SessionMember): Params {
  if ('customer' in member) return { customer: 1 };
  if ('repId' in member) return { rep_id: member.repId };
  return { rep_username: member.repUsername };
}

/** Typed methods for every action of the Command API (guide: "Remote Support Command API"). */
export class BeyondTrustCommandClient {
  constructor(private readonly transport: BeyondTrustTransport) {}

  private async run(action: string, params: Params, idempotent: boolean): Promise<{ root: string; node: XmlNode }> {
    return this.transport.xml('command', { action, ...params }, action, idempotent);
  }

  /** Actions answered by `<success>` or `<error>`: the success message. */
  private async success(action: string, params: Params, idempotent: boolean): Promise<string> {
    const { root, node } = await this.run(action, params, idempotent);
    if (root === 'success') return text_(node);
    if ('success' in node) return text_(node.success);
    throw new BeyondTrustApiError(`unexpected answer <${root}> to ${action}`, action);
  }

  async getLoggedInReps(): Promise<LoggedInRep[]> {
    const { node } = await this.run('get_logged_in_reps', {}, true);
    return list(node.rep).map((r) => ({
      id: attr(r, 'id') ?? '',
      publicDisplayName: text_(r.public_display_name ?? r.display_name),
      privateDisplayName: text_(r.private_display_name),
      type: text_(r.type),
      directLink: text_(r.direct_link),
      loggedInSince: timestamp(r.logged_in_since),
      presentationCount: int(r.presentation_count) ?? 0,
      supportSessionCount: int(r.support_session_count) ?? 0,
      showingOnRepList: bool(r.showing_on_rep_list),
    }));
  }

  async setRepStatus(repId: number | string, codeName: string): Promise<string> {
    return this.success('set_rep_status', { rep_id: repId, code_name: codeName }, true);
  }

  async getSupportTeams(options: { showMembers?: boolean } = {}): Promise<SupportTeam[]> {
    const { node } = await this.run('get_support_teams', options.showMembers ? { showmembers: 1 } : {}, true);
    return list(node.support_team).map((t) => ({
      id: attr(t, 'id') ?? '',
      name: text_(t.name),
      supportSessionCount: int(t.support_session_count) ?? 0,
      issues: list(child(t, 'issues').issue).map((i) => ({ id: attr(i, 'id') ?? '', title: text_(i.title) })),
      members: options.showMembers
        ? list(child(t, 'members').representative).map((m) => ({
            id: attr(m, 'id') ?? '',
            username: text_(m.username),
            publicDisplayName: text_(m.public_display_name ?? m.display_name),
            privateDisplayName: text_(m.private_display_name),
          }))
        : undefined,
    }));
  }

  async generateSessionKey(params: GenerateSessionKeyParams): Promise<SessionKey> {
    const action = 'generate_session_key';
    if (!QUEUE_ID.test(params.queueId))
      throw new BeyondTrustApiError(
        `queue_id "${params.queueId}" must be general, rep:<id>, team:<id>, rep_username:<name> or issue:<code>`,
        action,
      );
    if (params.priority !== undefined && ![1, 2, 3].includes(params.priority))
      throw new BeyondTrustApiError('session.priority must be 1, 2 or 3', action);
    if (params.ttl !== undefined && (!Number.isInteger(params.ttl) || params.ttl <= 0))
      throw new BeyondTrustApiError('ttl must be a positive number of seconds', action);
    const { node } = await this.run(
      action,
      {
        type: 'support',
        queue_id: params.queueId,
        ...customFieldParams({ external_key: params.externalKey, ...params.custom }, action),
        'session.priority': params.priority,
        'session.skills': params.skills?.length ? params.skills.join(',') : undefined,
        ttl: params.ttl,
        url_hostname: params.urlHostname,
      },
      // A key generated twice is harmless (the spare expires unused); a lost answer is not.
      true,
    );
    const shortKey = text_(node.short_key);
    if (!shortKey) throw new BeyondTrustApiError('generate_session_key answered without a short_key', action);
    return {
      type: text_(node.type),
      ttl: int(node.ttl) ?? 0,
      expires: timestamp(node.expires),
      queue: { type: text_(node.queue), available: attr(node.queue, 'available') === '1' },
      queueId: text_(node.queue_id),
      externalKey: optText(node.external_key),
      shortKey,
      keyUrl: text_(node.key_url),
      mailSubject: optText(node.mail_subject),
      mailBody: optText(node.mail_body),
    };
  }

  async joinSession(lsid: string, rep: { repId: number | string } | { repUsername: string }): Promise<string> {
    return this.success('join_session', { lsid, ...memberParams(rep) }, true);
  }

  async transferSession(lsid: string, queueId: string): Promise<string> {
    if (!/^(rep:\d+|team:\d+|rep_username:\S+)$/.test(queueId))
      throw new BeyondTrustApiError(`queue_id "${queueId}" must be rep:<id>, team:<id> or rep_username:<name>`, 'transfer_session');
    return this.success('transfer_session', { lsid, queue_id: queueId }, true);
  }

  async sendChatMessage(params: SendChatMessageParams): Promise<string> {
    const action = 'send_chat_message';
    if (!params.body) throw new BeyondTrustApiError('body must not be empty', action);
    const target: Params =
      'lsid' in params ? { lsid: params.lsid } : { team_id: params.teamId, to_rep: params.toRep, to_rep_username: params.toRepUsername };
    if (params.impersonate === 'customer' && !('lsid' in params))
      throw new BeyondTrustApiError('impersonate=customer works only with lsid', action);
    if (params.timestamp !== undefined && params.timestamp > Date.now() / 1000)
      throw new BeyondTrustApiError('timestamp must be in the past', action);
    const impersonate =
      params.impersonate === undefined
        ? undefined
        : params.impersonate === 'customer'
          ? 'customer'
          : 'repId' in params.impersonate
            ? `rep:${params.impersonate.repId}`
            : `rep_username:${params.impersonate.repUsername}`;
    // Not idempotent: a retry after a lost answer could show the line twice.
    return this.success(action, { ...target, body: params.body, impersonate, timestamp: params.timestamp }, false);
  }

  async createVirtualCustomer(params: VirtualCustomerParams): Promise<{ downloadUrl: string }> {
    const { root, node } = await this.run(
      'create_virtual_customer',
      {
        short_key: params.shortKey,
        name: params.name,
        ip_address: params.ipAddress,
        operating_system: params.operatingSystem,
        computer_name: params.computerName,
        chat_url: params.chatUrl ? 1 : undefined,
      },
      false,
    );
    const downloadUrl = root === 'download_url' ? text_(node) : text_(node.download_url);
    if (!downloadUrl) throw new BeyondTrustApiError('create_virtual_customer answered without a download_url', 'create_virtual_customer');
    return { downloadUrl };
  }

  async leaveSession(lsid: string, member: SessionMember): Promise<string> {
    return this.success('leave_session', { lsid, ...memberParams(member) }, true);
  }

  /** Sets attributes of an active session; an empty string clears one, an absent one keeps its value. */
  async setSessionAttributes(lsid: string, attributes: { externalKey?: string; custom?: Record<string, string> }): Promise<string> {
    const action = 'set_session_attributes';
    return this.success(
      action,
      { lsid, ...customFieldParams({ external_key: attributes.externalKey, ...attributes.custom }, action) },
      true,
    );
  }

  async getSessionAttributes(lsid: string): Promise<SessionAttribute[]> {
    const { node } = await this.run('get_session_attributes', { lsid }, true);
    return list(node.custom_attribute).map((a) => ({
      codeName: attr(a, 'code_name') ?? '',
      displayName: attr(a, 'display_name') ?? '',
      value: text_(a),
    }));
  }

  async terminateSession(lsid: string): Promise<string> {
    return this.success('terminate_session', { lsid }, true);
  }

  async getAppliances(): Promise<Appliance[]> {
    const { node } = await this.run('get_appliances', {}, true);
    return list(node.appliance).map((a) => ({
      id: attr(a, 'id') ?? '',
      name: text_(a.name),
      publicHostname: text_(a.public_hostname),
      clusterRole: text_(a.cluster_role),
      failoverRole: text_(a.failover_role),
      acceptingConnections: bool(a.accepting_connections),
      timezoneOffset: int(a.timezone_offset),
    }));
  }

  async getConnectedClientList(options: { types?: string[]; summaryOnly?: boolean } = {}): Promise<ConnectedClientList> {
    const { node } = await this.run(
      'get_connected_client_list',
      { type: options.types?.join(','), summary_only: options.summaryOnly ? 1 : undefined },
      true,
    );
    const summary = list(child(node, 'connected_client_summary').appliance_summary);
    return {
      summary: summary.map((s) => ({
        applianceId: attr(s, 'id') ?? '',
        counts: Object.fromEntries(list(s.count).map((c) => [attr(c, 'type') ?? '', int(c) ?? 0])),
      })),
      clients: list(node.connected_client).map((c) => ({ type: attr(c, 'type') ?? '', id: attr(c, 'id') ?? '' })),
    };
  }

  async getConnectedClients(options: { types?: string[]; ids?: string[]; includeConnections?: boolean } = {}): Promise<ConnectedClient[]> {
    if ((options.ids?.length ?? 0) > 100)
      throw new BeyondTrustApiError('get_connected_clients accepts at most 100 ids', 'get_connected_clients');
    const { node } = await this.run(
      'get_connected_clients',
      { type: options.types?.join(','), id: options.ids?.join(','), include_connections: options.includeConnections ? 1 : undefined },
      true,
    );
    const STRUCTURED = new Set(['client_connections', 'event_log', 'support_session_ids']);
    const clients: ConnectedClient[] = [];
    for (const [element, value] of Object.entries(node)) {
      if (!element.startsWith('connected_')) continue;
      for (const c of Array.isArray(value) ? (value as XmlNode[]) : [value as XmlNode]) {
        const fields: Record<string, string> = {};
        for (const [k, v] of Object.entries(c)) if (k !== 'id' && !STRUCTURED.has(k)) fields[k] = text_(v);
        const connections = child(c, 'client_connections');
        // The guide names <event_log> beside <client_connections> and also inside it: either is read.
        const logHolder = c.event_log !== undefined ? c : connections;
        clients.push({
          kind: element.replace(/^connected_/, ''),
          id: attr(c, 'id') ?? '',
          hostname: optText(c.hostname),
          platform: optText(c.platform),
          platformId: attr(c.platform, 'id'),
          connectedSince: timestamp(c.connected_since),
          supportSessionIds: c.support_session_ids === undefined ? undefined : list(child(c, 'support_session_ids').lsid).map(text_),
          connections:
            c.client_connections === undefined
              ? undefined
              : list(connections.client_connection).map((x) => ({
                  applianceId: text_(x.appliance_id),
                  purpose: text_(x.purpose),
                  receiveTrafficNode: bool(x.receive_traffic_node),
                  connectedSince: timestamp(x.connected_since),
                  privateIp: optText(x.private_ip),
                })),
          eventLog:
            logHolder.event_log === undefined
              ? undefined
              : list(child(logHolder, 'event_log').event).map((e) => ({ at: timestamp(e), text: text_(e) })),
          fields,
        });
      }
    }
    return clients;
  }

  async checkHealth(): Promise<HealthCheck> {
    const { node } = await this.run('check_health', {}, true);
    return {
      appliance: text_(node.appliance),
      applianceId: attr(node.appliance, 'id'),
      version: text_(node.version),
      success: bool(node.success),
      errorMessage: optText(node.error_message),
      failoverRole: text_(node.failover_role),
      enabledSharedIps: list(child(node, 'enabled_shared_ips').ip).map(text_),
      lastDataSyncTime: timestamp(node.last_data_sync_time),
      lastDataSyncStatus: optText(node.last_data_sync_status),
    };
  }

  /**
   * `dataSyncFirst: false` sends `data_sync_first=0` ("fail over without a final data sync"); left out, the
   * parameter is not sent and the appliance decides (the guide does not say its default).
   */
  async setFailoverRole(role: 'primary' | 'backup', options: { dataSyncFirst?: boolean; force?: boolean } = {}): Promise<string> {
    const flag = (value?: boolean) => (value === undefined ? undefined : value ? 1 : 0);
    return this.success('set_failover_role', { role, data_sync_first: flag(options.dataSyncFirst), force: flag(options.force) }, false);
  }

  /**
   * Imports one Jump shortcut. `fields` are the guide's parameters for the shortcut type (name,
   * jump_group, hostname, jumpoint, ...); the type decides which are required.
   */
  async importJumpShortcut(type: JumpShortcutType, fields: Record<string, string | number>): Promise<string> {
    // Required parameters per shortcut type, as the guide's import_jump_shortcut tables list them.
    const required: Record<JumpShortcutType, string[]> = {
      local_jump: ['name', 'local_jump_hostname', 'group'],
      remote_jump: ['name', 'remote_jump_hostname', 'jumpoint', 'group'],
      remote_vnc: ['name', 'remote_vnc_hostname', 'jumpoint', 'group'],
      local_vnc: ['name', 'local_vnc_hostname', 'group'],
      remote_rdp: ['name', 'remote_rdp_hostname', 'jumpoint', 'group'],
      local_rdp: ['name', 'rdp_hostname', 'group'],
      shell_jump: ['name', 'shelljump_hostname', 'jumpoint', 'protocol', 'group'],
      vpro: ['name', 'vpro_hostname', 'jumpoint', 'group'],
    };
    const missing = required[type].filter((f) => fields[f] === undefined || fields[f] === '');
    if (missing.length) throw new BeyondTrustApiError(`a ${type} shortcut needs ${missing.join(', ')}`, 'import_jump_shortcut');
    return this.success('import_jump_shortcut', { ...fields }, false);
  }

  async getApiInfo(): Promise<ApiInfo> {
    const { node } = await this.run('get_api_info', {}, true);
    const permissions: Record<string, string> = {};
    for (const p of list(child(node, 'permissions').permission)) {
      const name = attr(p, 'name');
      if (name) permissions[name] = attr(p, 'value') ?? text_(p);
      else for (const [k, v] of Object.entries(p)) if (k.startsWith('perm_')) permissions[k] = text_(v);
    }
    return {
      apiVersion: text_(node.api_version),
      companyName: optText(node.company_name),
      timestamp: optText(node.timestamp),
      permissions,
    };
  }
}
