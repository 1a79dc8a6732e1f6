import type { StateBackend } from '../state/types.js';
import { matchTotpStep, skewSteps, totpStepSeconds } from './totp.js';

/**
 * Checks a TOTP code and refuses its replay (RFC 6238 §5.2: "the verifier MUST NOT accept the second
 * attempt of the OTP after the successful validation has been issued for the first OTP"). The last
 * accepted step per key lives in the state backend, so a code used on one replica is spent on all;
 * a code of that step or an earlier one (still inside the ±1 step window) is refused. A short lock
 * per key makes check-and-record atomic: two requests racing with one code cannot both pass.
 */
const lastStepKey = (keyId: string) => `management-totp-last-step:${keyId}`;
/** How long the last step must be remembered: past the window, an old code fails the time check anyway. */
const rememberMs = (2 * skewSteps + 2) * totpStepSeconds * 1000;
const lockMs = 5_000;

export type TotpVerdict = 'accepted' | 'invalid' | 'replayed';

export class TotpGuard {
  constructor(
    private readonly state: StateBackend,
    private readonly now: () => number = Date.now,
  ) {}

  async check(keyId: string, secret: Buffer, code: string): Promise<TotpVerdict> {
    const step = matchTotpStep(secret, code, this.now());
    if (step === undefined) return 'invalid';
    const lease = await this.state.tryLock(`management-totp:${keyId}`, lockMs);
    // Another check of this key is running right now: with one code per 30 s, that is a replay race.
    if (lease === undefined) return 'replayed';
    try {
      const last = Number(await this.state.getValue(lastStepKey(keyId)));
      if (Number.isFinite(last) && step <= last) return 'replayed';
      await this.state.setValue(lastStepKey(keyId), String(step), rememberMs);
      return 'accepted';
    } finally {
      await this.state.unlock(lease);
    }
  }
}
