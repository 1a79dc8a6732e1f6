import type { ReadonlyProviderConfig } from '../config/schema.js';
import { configKeyId } from './credential-pool.js';
import { compileModelPatterns } from './model-patterns.js';

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
  /** Only these credentials serve it (a name or alias declared by upstream keys, not the provider); absent = any. */
  credentialIds?: ReadonlySet<string>;
}

export interface ModelRouter {
  /** The route for a client's model, or undefined (the caller answers GW_MODEL_NOT_FOUND). */
  resolve(model: string): ModelRoute | undefined;
  /** Every servable model id (names and aliases) with its provider and upstream name, for `GET /v1/models`. */
  list(): { id: string; provider: string; upstreamModel: string }[];
}

/** What a configured name or alias leads to. */
interface ModelTarget {
  upstreamModel: string;
  maxTokens: number | undefined;
  credentialIds?: ReadonlySet<string>;
}

interface ProviderModels {
  /** name → its entry and alias → its entry, for the `provider/model` form. */
  upstreamByModel: Map<string, ModelTarget>;
  /** A provider listing no models passes any model through, but only in the prefix form. */
  passThrough: boolean;
  /** `excluded_models`: never served, not even passed through. */
  excluded: { matches(model: string): boolean };
}

function route(provider: string, target: ModelTarget, requestedModel: string): ModelRoute {
  const result: ModelRoute = { provider, upstreamModel: target.upstreamModel, requestedModel };
  if (target.maxTokens !== undefined) result.maxTokens = target.maxTokens;
  if (target.credentialIds !== undefined) result.credentialIds = target.credentialIds;
  return result;
}

/**
 * The names and aliases a provider serves, in order: its `models` (names, then aliases), then the
 * names and aliases its upstream keys declare (`api_keys[].models`), which only those keys serve.
 * Entries whose name `excluded_models` matches are left out.
 */
function providerEntries(providerName: string, provider: ReadonlyProviderConfig): { id: string; target: ModelTarget; isAlias: boolean }[] {
  const excluded = compileModelPatterns(provider.excluded_models);
  const entries: { id: string; target: ModelTarget; isAlias: boolean }[] = [];
  const served = provider.models.filter((model) => !excluded.matches(model.name));
  for (const model of served) entries.push({ id: model.name, target: { upstreamModel: model.name, maxTokens: model.max_tokens }, isAlias: false });
  for (const model of served) if (model.alias !== undefined) entries.push({ id: model.alias, target: { upstreamModel: model.name, maxTokens: model.max_tokens }, isAlias: true });
  // Key-declared models: each id → the keys declaring it (and the name it goes upstream as: the first key's).
  const byKey = new Map<string, { upstreamModel: string; isAlias: boolean; credentialIds: Set<string> }>();
  provider.api_keys.forEach((key, index) => {
    if (typeof key === 'string') return;
    for (const model of key.models ?? []) {
      if (excluded.matches(model.name)) continue;
      for (const [id, isAlias] of [[model.name, false], ...(model.alias === undefined ? [] : [[model.alias, true]])] as [string, boolean][]) {
        const known = byKey.get(id) ?? { upstreamModel: model.name, isAlias, credentialIds: new Set<string>() };
        known.credentialIds.add(configKeyId(providerName, index));
        byKey.set(id, known);
      }
    }
  });
  const providerIds = new Set(entries.map((entry) => entry.id));
  for (const [id, known] of byKey) {
    // A name the provider itself lists is served by every key; only key-declared ones narrow the pool.
    if (providerIds.has(id)) continue;
    entries.push({ id, target: { upstreamModel: known.upstreamModel, maxTokens: undefined, credentialIds: known.credentialIds }, isAlias: known.isAlias });
  }
  return entries;
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

  const entriesByProvider = Object.entries(providers).map(([providerName, provider]) => [providerName, provider, providerEntries(providerName, provider)] as const);
  for (const [providerName, provider, entries] of entriesByProvider) {
    const upstreamByModel = new Map<string, ModelTarget>();
    for (const entry of entries) {
      if (entry.isAlias) continue;
      if (!upstreamByModel.has(entry.id)) upstreamByModel.set(entry.id, entry.target);
      if (!exact.has(entry.id)) exact.set(entry.id, { provider: providerName, ...entry.target });
    }
    byProvider.set(providerName, { upstreamByModel, passThrough: entries.length === 0 && provider.models.length === 0, excluded: compileModelPatterns(provider.excluded_models) });
  }
  for (const [providerName, , entries] of entriesByProvider) {
    const models = byProvider.get(providerName);
    for (const entry of entries) {
      if (!entry.isAlias) continue;
      if (models !== undefined && !models.upstreamByModel.has(entry.id)) models.upstreamByModel.set(entry.id, entry.target);
      if (!exact.has(entry.id)) exact.set(entry.id, { provider: providerName, ...entry.target });
    }
  }

  const listing = Object.freeze([...exact].map(([id, route]) => Object.freeze({ id, provider: route.provider, upstreamModel: route.upstreamModel })));

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
      if (models.passThrough && models.excluded.matches(rest)) return undefined;
      const target = models.passThrough ? { upstreamModel: rest, maxTokens: undefined } : models.upstreamByModel.get(rest);
      return target === undefined ? undefined : route(providerName, target, model);
    },
    list() {
      return [...listing];
    },
  };
}
