import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';

/**
 * Whether a request is addressed to this daemon, and whether a page is one of its own: the
 * defences against DNS rebinding and cross-site requests, as plain functions of header text.
 */

/** A Host header (or an origin's host) split up: the name in lower case, without brackets or a trailing dot. */
export interface HostName {
  name: string;
  /** The port as written; undefined when the default port of the scheme is meant. */
  port?: number;
  /** An IPv4 or IPv6 literal rather than a name. */
  ip: boolean;
}

const BRACKETED_V6 = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/;
const NAME_OR_V4 = /^([a-z0-9_-]+(?:\.[a-z0-9_-]+)*)\.?(?::(\d{1,5}))?$/;

/** Reads `name[:port]`, `[v6][:port]` or a bare IPv6 literal; undefined for anything else. */
export function parseHost(text: string): HostName | undefined {
  const lower = text.trim().toLowerCase();
  // Only a bare IPv6 literal has two colons; Node's IPv6 pattern is too dear for every request.
  if (lower.indexOf(':') !== lower.lastIndexOf(':') && isIP(lower) === 6) return { name: lower, ip: true };
  const v6 = BRACKETED_V6.exec(lower);
  if (v6) return isIP(v6[1]) === 6 ? withPort({ name: v6[1], ip: true }, v6[2]) : undefined;
  const named = NAME_OR_V4.exec(lower);
  return named ? withPort({ name: named[1], ip: isIP(named[1]) === 4 }, named[2]) : undefined;
}

function withPort(host: HostName, port: string | undefined): HostName | undefined {
  if (port === undefined) return host;
  const number = Number(port);
  return number <= 65535 ? { ...host, port: number } : undefined;
}

/**
 * True when a request whose Host header reads `host` may be answered while no token is set: an
 * IP literal, `localhost` or `*.localhost`, a `*.local` (mDNS) name, or a name `isKnown` takes
 * (this machine's names and the operator's allowed_hosts). A page reached through a DNS name the
 * attacker controls (DNS rebinding) carries that name here, and is refused.
 */
export function isOwnHost(host: HostName, isKnown: (name: string) => boolean): boolean {
  const { name } = host;
  return host.ip || name === 'localhost' || name.endsWith('.localhost') || name.endsWith('.local') || isKnown(name);
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * True when `origin` (an Origin header) names the same host and port as the request's `host`
 * header: a page the daemon served itself. `null`, another scheme than http(s), or no Host is
 * foreign.
 */
export function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  const page = parseHost(url.host);
  const own = parseHost(host);
  if (defaultPort === undefined || !page || !own) return false;
  return page.name === own.name && (page.port ?? defaultPort) === (own.port ?? defaultPort);
}

/**
 * This machine's names, lower case: os.hostname(), its first label, and every name on the
 * /etc/hosts lines that list either (where Debian keeps the fully qualified name).
 */
export function machineNames(hostsFile = '/etc/hosts'): Set<string> {
  const full = hostname().toLowerCase().replace(/\.$/, '');
  const own = [full, full.split('.')[0]];
  const names = new Set(own);
  let hosts = '';
  try {
    hosts = readFileSync(hostsFile, 'utf8');
  } catch {
    // No hosts file: the host name and its first label are all there is.
  }
  for (const line of hosts.split('\n')) {
    const aliases = line.replace(/#.*/, '').trim().split(/\s+/).slice(1).map((alias) => alias.toLowerCase().replace(/\.$/, ''));
    if (aliases.some((alias) => own.includes(alias))) aliases.forEach((alias) => names.add(alias));
  }
  names.delete('');
  return names;
}
