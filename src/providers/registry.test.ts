import { describe, expect, it } from 'vitest';
import { anthropicAdapter } from './anthropic/adapter.js';
import { openaiAdapter } from './openai/adapter.js';
import { adapterFor, providerAdapters } from './registry.js';

describe('provider registry', () => {
  it('maps each config type to its adapter', () => {
    expect(adapterFor('openai')).toBe(openaiAdapter);
    expect(adapterFor('anthropic')).toBe(anthropicAdapter);
  });

  it('lists exactly the two adapters, each speaking its own wire format', () => {
    expect(Object.keys(providerAdapters).sort()).toEqual(['anthropic', 'openai']);
    expect(providerAdapters.openai.format).toBe('openai-chat');
    expect(providerAdapters.anthropic.format).toBe('anthropic-messages');
  });
});
