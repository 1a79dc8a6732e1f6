import { banChannel, type StateBackend } from '../state/types.js';

/**
 * This process's copy of the dynamic IP bans (the expiring blocks the alert engine's `block_ip`
 * places through the state backend). The IP filter checks it on every request, so the check is a
 * Map lookup here and never a Redis round trip: the mirror loads the bans in force at start and
 * then follows the backend's ban channel, where every replica's `ban` is announced.
 *
 * A Redis outage leaves the mirror as it was (known bans keep applying until they expire); a ban
 * placed elsewhere during the outage arrives when the announcement does (at-most-once pub/sub) or
 * at the next start. Bounded: at most `maxEntries` bans, expired ones swept first, then the ones
 * ending soonest.
 */
export class BanMirror {
  private readonly bans = new Map<string, number>();
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly state: StateBackend,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {}

  /** Bans in force: zero makes the filter skip the lookup entirely. */
  get size(): number {
    return this.bans.size;
  }

  /** Bans in force now (expired entries not yet swept are not counted); O(bans), for metrics at scrape time. */
  activeCount(): number {
    const now = this.now();
    let active = 0;
    for (const until of this.bans.values()) if (until > now) active += 1;
    return active;
  }

  /** Subscribes first, then loads, so a ban placed in between is not missed. */
  async start(): Promise<void> {
    this.unsubscribe = await this.state.subscribe(banChannel, (message) => {
      const space = message.lastIndexOf(' ');
      const until = Number(message.slice(space + 1));
      if (space > 0 && Number.isFinite(until)) this.remember(message.slice(0, space), until);
    });
    for (const ban of await this.state.listBans()) this.remember(ban.address, ban.until);
  }

  /** True while `address` (normalised, net/ip-address.ts) is banned. */
  isBanned(address: string): boolean {
    const until = this.bans.get(address);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.bans.delete(address);
    return false;
  }

  /**
   * Bans an address in every replica. Applied here first, so the ban holds in this process even when
   * the backend is unreachable (the backend's error is passed on for the caller to log).
   */
  async ban(address: string, ttlMs: number): Promise<void> {
    this.remember(address, this.now() + ttlMs);
    await this.state.ban(address, ttlMs);
  }

  /** Lifts a ban in every replica: dropped here first, then in the backend (which announces it). */
  async unban(address: string): Promise<boolean> {
    const here = this.isBanned(address);
    this.bans.delete(address);
    const shared = await this.state.unban(address);
    return here || shared;
  }

  /** An end time in the past (`unban` announces 0) removes the address. */
  private remember(address: string, until: number): void {
    this.bans.delete(address);
    if (until <= this.now()) return;
    if (this.bans.size >= this.maxEntries) this.makeRoom();
    this.bans.set(address, until);
  }

  private makeRoom(): void {
    const now = this.now();
    for (const [address, until] of this.bans) if (until <= now) this.bans.delete(address);
    if (this.bans.size < this.maxEntries) return;
    const soonest = [...this.bans].sort((left, right) => left[1] - right[1]);
    for (const [address] of soonest.slice(0, this.bans.size - this.maxEntries + 1)) this.bans.delete(address);
  }

  /**
   * Ends the subscription without waiting for it: the state backend is closed right after (main.ts
   * shutdown order) and drops it anyway, and with Redis down an awaited unsubscribe would hold the
   * shutdown through the client's reconnect attempts and then fail it.
   */
  close(): Promise<void> {
    this.unsubscribe?.().catch(() => undefined);
    this.unsubscribe = undefined;
    return Promise.resolve();
  }
}
