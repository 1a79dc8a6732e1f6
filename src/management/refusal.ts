import { GatewayError } from '../errors/gateway-error.js';
import type { ErrorCode } from '../errors/codes.js';

/**
 * A management action refused for a reason the caller can act on: a catalog code with a message
 * naming the field or the state (never a secret). It is a GatewayError, so the management scope
 * answers it in the one JSON error shape with the code's status.
 */
export class ManagementRefusal extends GatewayError {
  constructor(code: ErrorCode, message: string) {
    super(code, { message });
  }
}
