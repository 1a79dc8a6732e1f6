import type { onRequestHookHandler } from 'fastify';
import type { ExchangeObservers } from '../exchange.js';
import type { Runtime } from '../runtime.js';
import { clientAddressOf } from './network.js';

/**
 * Starts the per-request record (exchange.ts) before any other hook can answer, so a refusal (401,
 * 503, an IP filter's 403) is recorded too. Installed only when an observer is registered: with
 * none there is no hook at all.
 */
export function createExchangeStartHook(observers: ExchangeObservers, runtime: () => Runtime): onRequestHookHandler | undefined {
  if (!observers.active) return undefined;
  return (request, reply, done) => {
    // The client address is resolved here, once: the IP filter and limiter read it from the request.
    request.exchange = observers.start(request, reply, clientAddressOf(request, runtime())?.address);
    done();
  };
}
