import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { nonPublicAddressReason } from './private-address.js';

/**
 * The egress guard: upstream calls (provider requests, OAuth token calls) go to public internet
 * addresses only, unless the provider sets `allow_private_network: true`. Two places:
 *
 * - an IP literal in `base_url` or `oauth.token_url` is refused by config validation
 *   (`urlHostProblem`), so the mistake stops `config check` and the start, naming the key;
 * - a host name is checked on **each connect**, on the addresses DNS actually returned
 *   (`createGuardedLookup`, given to the socket as its `lookup`). Checking the name once at
 *   start would not do: DNS can answer differently later (rebinding), and a name checked
 *   separately from the connect can resolve differently between the two.
 *
 * Redirects are not followed by either HTTP client (a 3xx reaches the caller as a status), so a
 * redirect cannot lead past the guard.
 */

/** The code carried by a refused connect, mapped to GW_EGRESS_REFUSED by the upstream client. */
export const egressRefusedCode = 'EGRESS_REFUSED';

export class EgressRefusedError extends Error {
  readonly code = egressRefusedCode;

  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`egress refused: ${host} resolves to ${address}, ${reason}; set allow_private_network: true on the provider if this is intended`);
    this.name = 'EgressRefusedError';
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** The `lookup` option of `net.connect` / `tls.connect` (and so of undici's connector). */
export type SocketLookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * A `lookup` that resolves as usual, then refuses the connect when **any** returned address is not
 * public (a name answering with one public and one private address is refused: the socket may
 * try either). `resolve` is the resolver, `dns.lookup` unless a test swaps it.
 */
export function createGuardedLookup(resolve: SocketLookup = dnsLookup): SocketLookup {
  return (hostname, options, callback) => {
    resolve(hostname, options, (error, address, family) => {
      if (error !== null) {
        callback(error, address, family);
        return;
      }
      const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
      for (const candidate of addresses) {
        const reason = nonPublicAddressReason(candidate);
        if (reason !== undefined) {
          callback(new EgressRefusedError(hostname, candidate, reason), address, family);
          return;
        }
      }
      callback(null, address, family);
    });
  };
}

/**
 * Why the host of `url` is refused as a literal (an IP that is not public), or undefined: a host
 * name passes here and is checked at connect. The WHATWG parser has already normalised the forms
 * that hide an IP (`http://2130706433/`, `http://0x7f.1/`, `[::ffff:127.0.0.1]`).
 */
export function urlHostProblem(url: string): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return undefined; // the schema reports a malformed URL
  }
  const reason = nonPublicAddressReason(hostname);
  return reason === undefined ? undefined : `${hostname} is ${reason}`;
}
