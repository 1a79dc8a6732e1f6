import type { onRequestHookHandler } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import { sendGatewayError } from '../error-handler.js';

export interface ShutdownGateOptions {
  isShuttingDown: () => boolean;
}

/**
 * Refuses new requests once shutdown began (503 `GW_SHUTTING_DOWN`, `Connection: close`), so the
 * in-flight ones can finish within the grace period. First in line: it costs one function call.
 */
export function createShutdownGate(options: ShutdownGateOptions): onRequestHookHandler {
  const { isShuttingDown } = options;
  return (request, reply, done) => {
    if (!isShuttingDown()) return done();
    void reply.header('connection', 'close');
    sendGatewayError(request, reply, new GatewayError('GW_SHUTTING_DOWN'));
  };
}
