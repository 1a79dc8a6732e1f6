import { isIP } from 'node:net';
import { normaliseSocketAddress } from '../net/ip-address.js';
import type { StateBackend } from '../state/types.js';
import { isLoopbackAddress } from './remote-access.js';
import { ManagementRefusal } from './refusal.js';

/** The longest block the API places: 30 days, in seconds. Longer belongs in `server.security.ip_denylist`. */
export const maxBlockSeconds = 30 * 24 * 60 * 60;

/** The process's ban mirror (net/ban-mirror.ts): applied here at once, then shared through the backend. */
export interface BanWriter {
  ban(address: string, ttlMs: number): Promise<void>;
  unban(address: string): Promise<boolean>;
}

export interface IpBlockListing {
  readonly ip: string;
  /** ISO 8601 end of the block. */
  readonly until: string;
  readonly expires_in_seconds: number;
}

/**
 * `ip-blocks`: the dynamic bans of the state backend, the very ones the IP filter enforces first
 * (net/ip-filter.ts) and the alert engine's `block_ip` writes. A block placed here holds in every
 * replica (the backend announces it on its ban channel) and expires by itself.
 */
export class IpBlockService {
  constructor(
    private readonly state: StateBackend,
    private readonly bans: BanWriter,
    private readonly now: () => number = Date.now,
  ) {}

  async list(): Promise<IpBlockListing[]> {
    const now = this.now();
    return (await this.state.listBans())
      .filter((ban) => ban.until > now)
      .sort((left, right) => left.address.localeCompare(right.address))
      .map((ban) => ({ ip: ban.address, until: new Date(ban.until).toISOString(), expires_in_seconds: Math.ceil((ban.until - now) / 1000) }));
  }

  /**
   * Blocks `ip` for `ttlSeconds`. The address is normalised the way the filter sees clients
   * (`::ffff:10.0.0.1` is `10.0.0.1`), so the block matches. A loopback address is refused: the
   * management scope is behind the same filter, and blocking loopback would lock every local
   * operator out of the API that lifts blocks.
   */
  async block(ip: string, ttlSeconds: number): Promise<IpBlockListing> {
    const address = normalisedIp(ip);
    if (isLoopbackAddress(address)) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', `refusing to block the loopback address ${address}: it would lock local operators out of the management API`);
    await this.bans.ban(address, ttlSeconds * 1000);
    const until = this.now() + ttlSeconds * 1000;
    return { ip: address, until: new Date(until).toISOString(), expires_in_seconds: ttlSeconds };
  }

  /** Lifts the block on `ip` in every replica; a 404 when none was in force. */
  async unblock(ip: string): Promise<void> {
    const address = normalisedIp(ip);
    if (!(await this.bans.unban(address))) throw new ManagementRefusal('GW_NOT_FOUND', `no block on ${address}`);
  }
}

/** A plain IPv4 or IPv6 address (no CIDR, no port), normalised; anything else is a 400 naming the field. */
export function normalisedIp(ip: string): string {
  if (isIP(ip) === 0) throw new ManagementRefusal('GW_INVALID_REQUEST', "ip: must be a single IPv4 or IPv6 address (no range, no port)");
  return normaliseSocketAddress(ip)?.address ?? ip;
}
