import { describe, expect, it } from 'vitest';
import { anthropicAdapter } from './anthropic/adapter.js';
import { geminiAdapter } from './gemini/adapter.js';
import { codexAdapter } from './codex/adapter.js';
import { openaiAdapter } from './openai/adapter.js';
import { adapterFor, providerAdapters } from './registry.js';

describe('provider registry', () => {
  it('maps each config type to its adapter', () => {
    expect(adapterFor('openai')).toBe(openaiAdapter);
    expect(adapterFor('anthropic')).toBe(anthropicAdapter);
    expect(adapterFor('gemini')).toBe(geminiAdapter);
    expect(adapterFor('codex')).toBe(codexAdapter);
  });

  it('lists exactly the four adapters, each speaking its own wire format', () => {
    expect(Object.keys(providerAdapters).sort()).toEqual(['anthropic', 'codex', 'gemini', 'openai']);
    expect(providerAdapters.codex.format).toBe('openai-responses');
    expect(providerAdapters.openai.format).toBe('openai-chat');
    expect(providerAdapters.anthropic.format).toBe('anthropic-messages');
    expect(providerAdapters.gemini.format).toBe('gemini');
  });
});
