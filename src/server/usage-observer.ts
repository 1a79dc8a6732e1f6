import type { UsageStore } from '../usage/usage-store.js';
import { hourOf } from '../usage/usage-store.js';
import type { ExchangeObserver } from './exchange.js';
import { modelLabel } from './metrics-observer.js';
import type { Runtime } from './runtime.js';

/**
 * Records each client-key request's usage into the usage store (usage/usage-store.ts) at the end
 * of its per-request record: key, provider, model (the configured name, `other` for a name a
 * pass-through provider forwarded, `none` before routing), the credential of the last attempt (which
 * upstream account paid), the upstream's reported tokens, and whether it failed. Synchronous and
 * without I/O: the store batches and appends on its own timer.
 */
export function createUsageObserver(store: UsageStore, runtime: () => Runtime): ExchangeObserver {
  return {
    name: 'usage',
    end(exchange) {
      const principal = exchange.principal;
      const outcome = exchange.outcome;
      if (principal === undefined || principal.source !== 'client-key' || outcome === undefined) return;
      const route = exchange.route;
      const attempts = exchange.attempts;
      const usage = exchange.usage;
      store.record(
        {
          hour: hourOf(exchange.endedAt ?? exchange.startedAt),
          key: principal.id,
          provider: route?.provider ?? 'none',
          model: route === undefined ? 'none' : modelLabel(runtime(), route.provider, route.upstreamModel),
          credential: attempts.length === 0 ? 'none' : attempts[attempts.length - 1]!.credentialId,
        },
        {
          requests: 1,
          errors: outcome.status >= 400 || outcome.errorCode !== undefined ? 1 : 0,
          inputTokens: usage?.inputTokens ?? 0,
          outputTokens: usage?.outputTokens ?? 0,
          cachedTokens: usage?.cachedTokens ?? 0,
        },
      );
    },
  };
}
