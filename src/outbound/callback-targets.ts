import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import ipaddr from 'ipaddr.js';
import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { ApiError } from '../common/api-error';

/** Only ordinary public addresses: loopback, private, link-local, CGNAT, reserved, multicast, mapped and NAT64 forms are not. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.parse(address).range() === 'unicast';
}

export const hostMatches = (host: string, patterns: string[]): boolean => {
  const name = host.toLowerCase().replace(/\.$/, '');
  return patterns.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? name.endsWith(p.slice(1)) && name.length > p.length - 1 : name === p;
  });
};

/** Thrown when a callback's host resolves to an address that is not public: permanent, the same name resolves the same way again. */
export class CallbackAddressRefused extends Error {
  readonly code = 'ERR_CALLBACK_ADDRESS_REFUSED';
  constructor(host: string, address: string) {
    super(
      `${host} resolves to ${address}, which is not a public address; list the host in RSB_CALLBACK_ALLOWED_HOSTS to call it on purpose`,
    );
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * dns.lookup for the sockets of callbacks: refuses a name when any of its addresses is not public. It runs
 * when the connection is made, on the addresses the socket then uses, so a name that resolved to a
 * public address when the URL was accepted and to an inner one now (DNS rebinding) is still refused.
 */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) return callback(new CallbackAddressRefused(hostname, refused.address), []);
    if (options.all) return callback(null, addresses);
    return callback(null, addresses[0].address, addresses[0].family);
  });
}

/**
 * Where rs-bridge may send callbacks on someone's behalf (generic ticket systems, chat bots): http(s) only;
 * with RSB_CALLBACK_ALLOWED_HOSTS set, only the hosts it lists (whatever they resolve to: listing a host is
 * how an inner one is allowed); unset, any host whose addresses are public, checked in the URL when the
 * request arrives and again on the resolved addresses when the callback connects.
 */
@Injectable()
export class CallbackTargets {
  private readonly allowed: string[];
  /** The agents for callback requests; with an allow-list the names decide, so the plain agents do. */
  readonly agents: { httpAgent?: HttpAgent; httpsAgent?: HttpsAgent };

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.allowed = config.env.RSB_CALLBACK_ALLOWED_HOSTS;
    this.agents = this.allowed.length
      ? {}
      : { httpAgent: new HttpAgent({ lookup: publicOnlyLookup }), httpsAgent: new HttpsAgent({ lookup: publicOnlyLookup }) };
  }

  /** Why a URL may not be called back, or undefined when it may. */
  problem(url: string): string | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'must be an http(s) URL';
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http(s) URL';
    const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
    if (this.allowed.length) {
      return hostMatches(host, this.allowed) ? undefined : `host ${host} is not in RSB_CALLBACK_ALLOWED_HOSTS`;
    }
    if (isIP(host) && !isPublicAddress(host)) return `${host} is not a public address (list it in RSB_CALLBACK_ALLOWED_HOSTS to allow it)`;
    if (host === 'localhost' || host.endsWith('.localhost'))
      return `${host} is not a public host (list it in RSB_CALLBACK_ALLOWED_HOSTS to allow it)`;
    return undefined;
  }

  /** For a URL in a request body: a 400 naming the field. */
  checkRequest(url: string | undefined, field = 'callbackUrl'): void {
    if (url === undefined) return;
    const problem = this.problem(url);
    if (problem) throw new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', `${field} ${problem}`, [`${field} ${problem}`]);
  }

  /** Before sending (the URL may have been stored before the rules changed): a permanent failure of the job. */
  checkSend(system: string, url: string): void {
    const problem = this.problem(url);
    if (problem) throw new CallbackRefusedError(system, problem);
  }
}

/** A stored callback URL the current rules refuse: permanent (`retryable: false`), the job stops retrying. */
export class CallbackRefusedError extends Error {
  readonly retryable = false;

  constructor(
    readonly system: string,
    problem: string,
  ) {
    super(`${system}: callback URL refused: ${problem}`);
    this.name = 'CallbackRefusedError';
  }
}
