import { compileAddressList, type AddressList } from './address-list.js';
import type { NormalisedAddress } from './ip-address.js';

/**
 * The IP filter: dynamic bans → denylist → allowlist, cheapest and most specific first. A banned
 * or denied address is refused even when the allowlist names it (a deny is the stronger
 * statement); with the allowlist on, an address it does not name is refused.
 *
 * Compiled once per config (start and reload) into address lists (address-list.ts: integer masks
 * for IPv4, `net.BlockList` for IPv6). Per request: one Map lookup when any ban is in force, then at
 * most two list checks on the normalised address.
 */
export type IpVerdict = 'allowed' | 'banned' | 'denied' | 'not-allowed';

export interface IpFilterConfig {
  readonly ip_allowlist: { readonly enabled: boolean; readonly allowed_ips: readonly string[] };
  readonly ip_denylist: readonly string[];
}

/** The ban check the filter consults first (net/ban-mirror.ts); `size` 0 skips it. */
export interface BanCheck {
  readonly size: number;
  isBanned(address: string): boolean;
}

export interface IpFilter {
  /** False when neither list is set: the only possible refusal is a ban. */
  readonly hasLists: boolean;
  check(client: NormalisedAddress): IpVerdict;
}

export function compileIpFilter(config: IpFilterConfig, bans: BanCheck): IpFilter {
  const deny: AddressList | undefined = config.ip_denylist.length > 0 ? compileAddressList(config.ip_denylist) : undefined;
  const allow: AddressList | undefined = config.ip_allowlist.enabled ? compileAddressList(config.ip_allowlist.allowed_ips) : undefined;
  return {
    hasLists: deny !== undefined || allow !== undefined,
    check(client) {
      if (bans.size > 0 && bans.isBanned(client.address)) return 'banned';
      if (deny !== undefined && deny.check(client)) return 'denied';
      if (allow !== undefined && !allow.check(client)) return 'not-allowed';
      return 'allowed';
    },
  };
}
