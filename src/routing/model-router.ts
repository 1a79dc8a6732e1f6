import type { ReadonlyProviderConfig } from '../config/schema.js';

/** Where a client's model name goes: which provider, and the model name the upstream expects. */
export interface ModelRoute {
  /** The provider's name (its key under `providers:`). */
  provider: string;
  /** The model name sent upstream: the configured `name` (an alias resolves to it). */
  upstreamModel: string;
  /** What the client asked for, verbatim; responses may echo it back. */
  requestedModel: string;
  /** The model entry's own `max_tokens` cap, when it sets one (else the global cap applies). */
  maxTokens?: number;
}

export interface ModelRouter {
  /** The route for a client's model, or undefined (the caller answers GW_MODEL_NOT_FOUND). */
  resolve(model: string): ModelRoute | undefined;
  /** Every servable model id (names and aliases) with its provider, for `GET /v1/models`. */
  list(): { id: string; provider: string }[];
}

/** What a configured name or alias leads to. */
interface ModelTarget {
  upstreamModel: string;
  maxTokens: number | undefined;
}

interface ProviderModels {
  /** name → its entry and alias → its entry, for the `provider/model` form. */
  upstreamByModel: Map<string, ModelTarget>;
  /** A provider listing no models passes any model through, but only in the prefix form. */
  passThrough: boolean;
}

function route(provider: string, target: ModelTarget, requestedModel: string): ModelRoute {
  const result: ModelRoute = { provider, upstreamModel: target.upstreamModel, requestedModel };
  if (target.maxTokens !== undefined) result.maxTokens = target.maxTokens;
  return result;
}

/**
 * Compiles the model maps once, at construction (config load or reload), so a request does two
 * map lookups at most. Resolution order:
 * 1. an exact configured name or alias, across all providers. Names are registered before
 *    aliases, and earlier providers (config order) before later ones, so when two entries
 *    collide the first name wins. This runs first because model names may contain '/'
 *    (`meta-llama/Llama-3`) and must not be taken for the prefix form;
 * 2. `provider/model`: the text before the first '/' picks the provider (provider names cannot
 *    contain '/'), and the rest must be one of its names or aliases, or anything when it lists none.
 *
 * Maps, not plain objects, hold client-controlled keys, so `__proto__/x` or `constructor` find nothing.
 */
export function createModelRouter(providers: Readonly<Record<string, ReadonlyProviderConfig>>): ModelRouter {
  const exact = new Map<string, ModelTarget & { provider: string }>();
  const byProvider = new Map<string, ProviderModels>();

  for (const [providerName, provider] of Object.entries(providers)) {
    const upstreamByModel = new Map<string, ModelTarget>();
    for (const model of provider.models) {
      const target = { upstreamModel: model.name, maxTokens: model.max_tokens };
      if (!upstreamByModel.has(model.name)) upstreamByModel.set(model.name, target);
      if (!exact.has(model.name)) exact.set(model.name, { provider: providerName, ...target });
    }
    byProvider.set(providerName, { upstreamByModel, passThrough: provider.models.length === 0 });
  }
  for (const [providerName, provider] of Object.entries(providers)) {
    const models = byProvider.get(providerName);
    for (const model of provider.models) {
      if (model.alias === undefined) continue;
      const target = { upstreamModel: model.name, maxTokens: model.max_tokens };
      if (models !== undefined && !models.upstreamByModel.has(model.alias)) models.upstreamByModel.set(model.alias, target);
      if (!exact.has(model.alias)) exact.set(model.alias, { provider: providerName, ...target });
    }
  }

  const listing = Object.freeze([...exact].map(([id, route]) => Object.freeze({ id, provider: route.provider })));

  return {
    resolve(model: string): ModelRoute | undefined {
      const direct = exact.get(model);
      if (direct !== undefined) return route(direct.provider, direct, model);
      const slash = model.indexOf('/');
      if (slash <= 0) return undefined;
      const providerName = model.slice(0, slash);
      const rest = model.slice(slash + 1);
      const models = byProvider.get(providerName);
      if (models === undefined || rest === '') return undefined;
      const target = models.passThrough ? { upstreamModel: rest, maxTokens: undefined } : models.upstreamByModel.get(rest);
      return target === undefined ? undefined : route(providerName, target, model);
    },
    list() {
      return [...listing];
    },
  };
}
