import type { NetworkCounters } from './counters.js';

/**
 * A circuit breaker in front of the shared state backend for the limiters. Redis's own command
 * timeout (5 s) is right for an OAuth refresh lock but wrong for a request-path limiter: during an
 * outage every request would wait for it. So:
 * - each call has a short deadline of its own (`timeoutMs`, 500 ms by default);
 * - after a failure the circuit opens for `openMs` (5 s): calls are not sent, the caller's failure
 *   policy applies at once (the limiters document theirs);
 * - when that time is over, one call probes; the others keep the policy until the probe succeeds.
 * One warning per opening (not per request) and counters for every failed and skipped call.
 */
export interface StateGuardOptions {
  counters: NetworkCounters;
  logger: { warn(details: Record<string, unknown>, message: string): void };
  now?: () => number;
  /** Milliseconds the circuit stays open after a failure. */
  openMs?: number;
  /** Milliseconds one call may take before it counts as failed. */
  timeoutMs?: number;
}

/** A call that was not answered (failed, timed out, or skipped while the circuit is open). */
export const stateUnavailable: unique symbol = Symbol('state unavailable');

export class StateGuard {
  private openUntil = 0;
  private probing = false;
  private readonly now: () => number;
  private readonly openMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: StateGuardOptions) {
    this.now = options.now ?? Date.now;
    this.openMs = options.openMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 500;
  }

  /** Milliseconds until the circuit lets a call through again (0 when closed). */
  get retryInMs(): number {
    return Math.max(0, this.openUntil - this.now());
  }

  /** Runs `operation` unless the circuit is open; `stateUnavailable` when it is skipped or fails. */
  async run<T>(operation: () => Promise<T>): Promise<T | typeof stateUnavailable> {
    const { counters } = this.options;
    let probe = false;
    if (this.openUntil !== 0) {
      if (this.now() < this.openUntil || this.probing) {
        counters.stateSkipped += 1;
        return stateUnavailable;
      }
      this.probing = true;
      probe = true;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`state backend did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      const value = await Promise.race([operation(), deadline]);
      if (probe) {
        this.openUntil = 0;
        this.options.logger.warn({ limiter_state: 'recovered' }, 'rate-limit state backend answers again; shared limits apply');
      }
      return value;
    } catch (error) {
      counters.stateFailures += 1;
      const wasClosed = this.openUntil === 0;
      this.openUntil = this.now() + this.openMs;
      if (wasClosed) {
        this.options.logger.warn(
          { limiter_state: 'unavailable', err_message: (error as Error).message, retry_in_ms: this.openMs },
          'rate-limit state backend failed; applying each limit\'s failure policy until it answers again',
        );
      }
      return stateUnavailable;
    } finally {
      clearTimeout(timer);
      if (probe) this.probing = false;
    }
  }
}
