import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * Who an anonymous request comes from. The connecting address, unless it is a trusted proxy
 * (TRUSTED_PROXIES): then `X-Forwarded-For` is read from the right, each hop a trusted proxy
 * appended, and the first address that is not a trusted proxy is the client. Entries further left
 * are the client's own word, which anyone can forge, so they are never reached unless every hop
 * after them is trusted. An entry that is not an address ends the walk at the hop that wrote it.
 *
 * IPv6 clients are told apart by their /64: one subscriber commonly holds a whole /64, and would
 * otherwise mint a fresh address, and a fresh budget, per request.
 */
export class ClientAddresses {
  private readonly trusted = new BlockList();
  private readonly trustsAny: boolean;

  /** `trustedProxies`: addresses and CIDR ranges, as config.ts has validated them. */
  constructor(trustedProxies: readonly string[]) {
    for (const entry of trustedProxies) {
      const [address, bits] = entry.split('/') as [string, string | undefined];
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.trusted.addAddress(address, family);
      else this.trusted.addSubnet(address, Number(bits), family);
    }
    this.trustsAny = trustedProxies.length > 0;
  }

  /** The client's address (an IPv6 client's /64, as `2001:db8:1:2::/64`). */
  of(request: Pick<IncomingMessage, 'socket' | 'headers'>): string {
    let client = normalised(request.socket.remoteAddress ?? 'unknown');
    if (this.trustsAny && this.isTrusted(client)) {
      const forwarded = request.headers['x-forwarded-for'];
      // node joins repeated X-Forwarded-For headers with ", ", in order: one list either way.
      const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',');
      for (let i = hops.length - 1; i >= 0; i -= 1) {
        const hop = normalised(hops[i]!.trim());
        if (isIP(hop) === 0) break;
        client = hop;
        if (!this.isTrusted(hop)) break;
      }
    }
    // Only an IPv6 address has a colon once IPv4-mapped ones are plain (cheaper than isIP on every hit).
    return client.includes(':') ? network64(client) : client;
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`, how a dual-stack socket reports it) as plain IPv4. */
function normalised(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The first four groups of an IPv6 address, expanded (`::` and an embedded IPv4 tail included), as a /64. */
export function network64(address: string): string {
  const bare = address.split('%')[0]!;
  const [head = '', tail] = bare.split('::') as [string, string | undefined];
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])));
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}
