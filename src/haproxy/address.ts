/**
 * HAProxy's own address rules, on top of the one host:port parser (src/net/address.ts).
 *
 * HAProxy resolves names once at start-up and binds only IPs (or the wildcard), so a bind host must be an IP or
 * `*`; a server host may also be a DNS name. IPv6 hosts are written in brackets, as HAProxy accepts them.
 */
import { isIp, isLoopback, isWildcard, parseHostPort, type HostPort } from '../net/address.js';

export { bindsCollide, formatHostPort, parseDialAddress, type HostPort } from '../net/address.js';

/** A listening address: `*:port`, `:port`, IPv4:port or [IPv6]:port. */
export function parseBind(text: string): HostPort | undefined {
  const hp = parseHostPort(text.startsWith('*:') ? text.slice(1) : text);
  if (hp === undefined || hp.port === 0) return undefined;
  if (hp.host === '') return { host: '*', port: hp.port };
  return isIp(hp.host) ? hp : undefined;
}

/**
 * A bind takes an upstream's port when that upstream lives on HAProxy's own host (a loopback address) on the same
 * port, and the bind covers loopback (wildcard or loopback). HAProxy would then talk to itself.
 */
export function bindTakesUpstream(bind: HostPort, upstream: HostPort): boolean {
  return (
    bind.port === upstream.port &&
    isLoopback(upstream.host) &&
    (isWildcard(bind.host) || isLoopback(bind.host))
  );
}
