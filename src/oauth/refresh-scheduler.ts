import type { CredentialRefresher } from './refresh.js';

export interface RefreshSchedulerOptions {
  refresher: CredentialRefresher;
  /** Milliseconds before expiry to refresh a provider's credentials (the OAuth profile's `refreshLeadMs`). */
  leadMsFor: (provider: string) => number;
  /**
   * Least milliseconds between two scheduled refreshes of one credential (default 60 s): a lead
   * longer than the token's lifetime must not turn into a refresh loop against the token endpoint.
   */
  minimumIntervalMs?: number;
}

/** setTimeout's longest delay (~24.8 days); longer waits are re-armed when they fire. */
const maxTimerDelayMs = 2 ** 31 - 1;

/**
 * Background refresh, independent of traffic and of quota state: each tracked credential is
 * refreshed `leadMsFor(provider)` before its expiry (Claude 4 h, Google 5 min), whether or not a
 * request wants it. Each timer recomputes the due time when it fires, so a refresh that already
 * happened on the request path (or in another replica) simply moves the next one. After a failure
 * the next try waits for the refresher's backoff. Timers are unref'd: they never keep the process up.
 */
export class RefreshScheduler {
  private readonly refresher: CredentialRefresher;
  private readonly leadMsFor: (provider: string) => number;
  private readonly minimumIntervalMs: number;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lastScheduledRun = new Map<string, number>();
  private stopped = false;

  constructor(options: RefreshSchedulerOptions) {
    this.refresher = options.refresher;
    this.leadMsFor = options.leadMsFor;
    this.minimumIntervalMs = options.minimumIntervalMs ?? 60_000;
  }

  /** Arms a timer for every credential the refresher tracks now (call again after tracking more). */
  start(): void {
    this.stopped = false;
    for (const id of this.refresher.trackedIds()) if (!this.timers.has(id)) this.arm(id);
  }

  /** A credential left (deleted, replaced): its timer goes too. */
  forget(id: string): void {
    const timer = this.timers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(id);
    this.lastScheduledRun.delete(id);
  }

  /** A credential's expiry moved outside a refresh (a new login, another process's refresh): its due time is computed again. */
  rearm(id: string): void {
    const timer = this.timers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(id);
    if (this.refresher.entry(id) !== undefined) this.arm(id);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Epoch milliseconds of the next scheduled refresh, for tests and status output. */
  dueAt(id: string): number | undefined {
    const entry = this.refresher.entry(id);
    const expiresAt = entry?.credential.expiresAt;
    if (entry === undefined || expiresAt === undefined) return undefined;
    let due = expiresAt - this.leadMsFor(entry.provider);
    due = Math.max(due, entry.unavailableUntil, (this.lastScheduledRun.get(id) ?? -Infinity) + this.minimumIntervalMs);
    return due;
  }

  private arm(id: string): void {
    if (this.stopped) return;
    const due = this.dueAt(id);
    if (due === undefined) {
      this.timers.delete(id);
      return;
    }
    const delay = Math.min(Math.max(0, due - this.refresher.now()), maxTimerDelayMs);
    const timer = setTimeout(() => void this.fire(id), delay);
    timer.unref();
    this.timers.set(id, timer);
  }

  private async fire(id: string): Promise<void> {
    this.timers.delete(id);
    if (this.stopped || this.refresher.entry(id) === undefined) return;
    const due = this.dueAt(id);
    if (due !== undefined && due <= this.refresher.now()) {
      this.lastScheduledRun.set(id, this.refresher.now());
      try {
        await this.refresher.refresh(id);
      } catch {
        // Logged by the refresher; the backoff it set decides when the next try is due.
      }
    }
    this.arm(id);
  }
}
