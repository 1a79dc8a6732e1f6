import type { StateBackend } from '../state/types.js';

/**
 * Lockout of management logins per client IP, in the state backend so every replica shares it
 * (an attacker spreading guesses over replicas behind a load balancer gets no more tries).
 *
 * - A wrong key (or a wrong TOTP code) counts; a request with no key does not: a browser, a health
 *   check or a misconfigured scraper without credentials must not lock the operator out.
 * - Counted per `subject` (the caller passes the client IP after the trusted-proxy rules, IPv6 per
 *   /64): an untrusted peer's X-Forwarded-For is never read, so it can neither dodge the count by
 *   inventing addresses nor move it onto someone else's address.
 * - `max_failures` within `window_seconds` (a fixed window from the first failure) locks the subject
 *   out for `duration_seconds`; while locked out even the right key is refused, so guessing on
 *   cannot tell a right key from a wrong one. A success does not clear the count: a caller holding
 *   one valid (say auditor) key could otherwise interleave successes with guesses at an admin key.
 */
export interface LockoutPolicy {
  readonly max_failures: number;
  readonly window_seconds: number;
  readonly duration_seconds: number;
}

const failuresKey = (subject: string) => `management-login-failures:${subject}`;
const lockedKey = (subject: string) => `management-lockout:${subject}`;

export class ManagementLockout {
  /** Lockouts this process started (for the security summary; the backend holds the truth). */
  lockoutsStarted = 0;

  constructor(
    private readonly state: StateBackend,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `subject` may try again, or undefined when it is not locked out. */
  async lockedFor(subject: string): Promise<number | undefined> {
    const until = Number(await this.state.getValue(lockedKey(subject)));
    if (!Number.isFinite(until)) return undefined;
    const remainingMs = until - this.now();
    return remainingMs > 0 ? Math.ceil(remainingMs / 1000) : undefined;
  }

  /** Counts a failure; returns the lockout's seconds when this failure started one. */
  async recordFailure(subject: string, policy: LockoutPolicy): Promise<number | undefined> {
    const failures = await this.state.increment(failuresKey(subject), 1, policy.window_seconds * 1000);
    if (failures < policy.max_failures) return undefined;
    const durationMs = policy.duration_seconds * 1000;
    await this.state.setValue(lockedKey(subject), String(this.now() + durationMs), durationMs);
    await this.state.deleteKeys([failuresKey(subject)]);
    this.lockoutsStarted += 1;
    return policy.duration_seconds;
  }
}
