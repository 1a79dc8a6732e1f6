import type { OperatorCodeFor } from '../errors/operator-codes.js';

/**
 * Why `cliproxyapi login` did not store a credential. The message says what happened and what to
 * do; it never holds a token, an authorization code or a token endpoint's body (only its status
 * and OAuth `error` code). Codes are in the operator catalog (docs/errors.md).
 */
export class LoginError extends Error {
  override readonly name = 'LoginError';

  constructor(
    readonly code: OperatorCodeFor<'LoginError'>,
    message: string,
  ) {
    super(message);
  }
}
