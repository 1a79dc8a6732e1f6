import type { ProviderConfig } from '../config/schema.js';
import type { ProviderAdapter } from './types.js';
import { anthropicAdapter } from './anthropic/adapter.js';
import { geminiAdapter } from './gemini/adapter.js';
import { codexAdapter } from './codex/adapter.js';
import { openaiAdapter } from './openai/adapter.js';

/**
 * The explicit list of upstream adapters, keyed by the config's `type`. Adding a provider is one
 * folder plus one line here; `satisfies` makes a config type without an adapter a compile error,
 * and `conventions.test.ts` fails when a provider folder is missing from this list.
 */
export const providerAdapters = {
  openai: openaiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  codex: codexAdapter,
} as const satisfies Record<ProviderConfig['type'], ProviderAdapter>;

/** The adapter for a provider type. Types come from validated config, so every one has an entry. */
export function adapterFor(type: ProviderConfig['type']): ProviderAdapter {
  return providerAdapters[type];
}
