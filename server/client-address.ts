// Who the client is (--trust-proxy), for every engine: behind a reverse proxy every TCP
// connection comes from the proxy, and the client's address is in `X-Forwarded-For`,
// which anyone can also send. The header is believed only on a connection whose peer is a
// listed proxy, and only as far as listed proxies wrote it: read from the right (each
// proxy appends the address it got the request from), the client is the first address
// that is not a listed proxy. A client that sends its own `X-Forwarded-For` through the
// proxy only adds entries to the left of that one, which are never read.
//
// The address feeds the per-address connection cap (--max-connections-per-ip), the logs
// and the upload limits. Matching addresses against the list (plain addresses, CIDR
// ranges, IPv4-mapped IPv6 peers such as `::ffff:127.0.0.1`) is @fastify/proxy-addr's,
// the module fastify and Express use for the same job.

import proxyaddr from '@fastify/proxy-addr';
import { isIP } from 'node:net';

/** How the engines learn each request's client address. */
export interface ClientAddresses {
  /** Whether any proxy is listed (false: `X-Forwarded-For` is never read). */
  readonly hasProxies: boolean;
  /** Whether a TCP connection from `peer` is a listed proxy's: its requests name their own clients. */
  isProxy(peer: string): boolean;
  /**
   * The client's address for a request that came from `peer` with this `X-Forwarded-For`
   * (repeated headers joined with `, `): `peer` itself unless it is a listed proxy; else
   * the rightmost address of the header that is not a listed proxy (or the leftmost when
   * all are). An entry that is not an IP address stops the walk at the proxy that wrote it.
   */
  clientOf(peer: string, forwardedFor: string | undefined): string;
}

/** No proxy listed (the default): the client is the TCP peer. */
export const NO_PROXIES: ClientAddresses = Object.freeze({
  hasProxies: false,
  isProxy: () => false,
  clientOf: (peer: string) => peer,
});

/** Names proxy-addr expands into ranges, accepted in the list as well. */
const RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * The policy for `proxies` (--trust-proxy): IP addresses, CIDR ranges (`10.0.0.0/8`,
 * `fd00::/8`) or `loopback`, `linklocal`, `uniquelocal`. Throws a TypeError naming the
 * first entry that is none of these.
 */
export function trustProxies(proxies: readonly string[]): ClientAddresses {
  if (proxies.length === 0) return NO_PROXIES;
  for (const entry of proxies) {
    const invalid = invalidEntry(entry);
    if (invalid !== null) throw new TypeError(`'${entry}' is not an IP address or a CIDR range (${invalid})`);
  }
  const isTrusted = proxyaddr.compile([...proxies]);
  const isProxy = (peer: string): boolean => isTrusted(peer, 0);
  return Object.freeze({
    hasProxies: true,
    isProxy,
    clientOf(peer: string, forwardedFor: string | undefined): string {
      if (forwardedFor === undefined || !isProxy(peer)) return peer;
      // [peer, then the header's entries from the right], cut after the first address not trusted.
      const chain = proxyaddr.all({ headers: { 'x-forwarded-for': forwardedFor }, socket: { remoteAddress: peer } } as never, isTrusted);
      const client = chain[chain.length - 1]!;
      return isIP(client) !== 0 ? client : chain[chain.length - 2]!;
    },
  });
}

/** Why `entry` is not a valid --trust-proxy entry, or null when it is. */
function invalidEntry(entry: string): string | null {
  if (RANGE_NAMES.includes(entry)) return null;
  try {
    proxyaddr.compile(entry);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
