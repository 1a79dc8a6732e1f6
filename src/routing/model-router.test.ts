import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../config/schema.js';
import { createModelRouter } from './model-router.js';

function provider(type: ProviderConfig['type'], models: ProviderConfig['models']): ProviderConfig {
  return { type, base_url: 'https://upstream.test', api_keys: ['test-upstream-key-0001'], models };
}

const router = createModelRouter({
  openai: provider('openai', [{ name: 'gpt-4o-mini' }, { name: 'meta-llama/Llama-3', alias: 'llama' }]),
  claude: provider('anthropic', [{ name: 'claude-sonnet-4-5', alias: 'sonnet' }, { name: 'claude-haiku-4-5' }]),
  local: provider('openai', []),
});

describe('model router', () => {
  it('routes by configured name', () => {
    expect(router.resolve('gpt-4o-mini')).toEqual({ provider: 'openai', upstreamModel: 'gpt-4o-mini', requestedModel: 'gpt-4o-mini' });
    expect(router.resolve('claude-haiku-4-5')).toEqual({ provider: 'claude', upstreamModel: 'claude-haiku-4-5', requestedModel: 'claude-haiku-4-5' });
  });

  it('routes an alias to its name', () => {
    expect(router.resolve('sonnet')).toEqual({ provider: 'claude', upstreamModel: 'claude-sonnet-4-5', requestedModel: 'sonnet' });
  });

  it('routes the provider/model prefix form by name or alias', () => {
    expect(router.resolve('claude/sonnet')).toEqual({ provider: 'claude', upstreamModel: 'claude-sonnet-4-5', requestedModel: 'claude/sonnet' });
    expect(router.resolve('openai/gpt-4o-mini')).toEqual({ provider: 'openai', upstreamModel: 'gpt-4o-mini', requestedModel: 'openai/gpt-4o-mini' });
    expect(router.resolve('openai/meta-llama/Llama-3')?.upstreamModel).toBe('meta-llama/Llama-3');
  });

  it('refuses a prefix whose rest the provider does not list', () => {
    expect(router.resolve('claude/gpt-4o-mini')).toBeUndefined();
    expect(router.resolve('openai/')).toBeUndefined();
  });

  it('passes any model through a provider that lists none, in the prefix form only', () => {
    expect(router.resolve('local/qwen2.5-7b-instruct')).toEqual({ provider: 'local', upstreamModel: 'qwen2.5-7b-instruct', requestedModel: 'local/qwen2.5-7b-instruct' });
    expect(router.resolve('qwen2.5-7b-instruct')).toBeUndefined();
  });

  it('returns undefined for unknown models and providers', () => {
    expect(router.resolve('gpt-5')).toBeUndefined();
    expect(router.resolve('nobody/gpt-4o-mini')).toBeUndefined();
    expect(router.resolve('')).toBeUndefined();
    expect(router.resolve('/gpt-4o-mini')).toBeUndefined();
  });

  it('matches a model name containing a slash exactly before trying the prefix form', () => {
    const withSlashProvider = createModelRouter({
      'meta-llama': provider('openai', [{ name: 'other' }]),
      openai: provider('openai', [{ name: 'meta-llama/Llama-3' }]),
    });
    expect(withSlashProvider.resolve('meta-llama/Llama-3')).toEqual({ provider: 'openai', upstreamModel: 'meta-llama/Llama-3', requestedModel: 'meta-llama/Llama-3' });
    expect(withSlashProvider.resolve('meta-llama/other')?.provider).toBe('meta-llama');
  });

  it('finds nothing through prototype names', () => {
    for (const model of ['__proto__', 'constructor', 'toString', '__proto__/x', 'constructor/gpt-4o-mini', 'hasOwnProperty/x']) {
      expect(router.resolve(model)).toBeUndefined();
    }
  });

  it('lets the first provider win a name collision, and a name beat another provider’s alias', () => {
    const colliding = createModelRouter({
      first: provider('openai', [{ name: 'shared' }, { name: 'a-model', alias: 'b-model' }]),
      second: provider('openai', [{ name: 'shared' }, { name: 'b-model' }]),
    });
    expect(colliding.resolve('shared')?.provider).toBe('first');
    expect(colliding.resolve('second/shared')?.provider).toBe('second');
    expect(colliding.resolve('b-model')).toEqual({ provider: 'second', upstreamModel: 'b-model', requestedModel: 'b-model' });
    expect(colliding.resolve('first/b-model')?.upstreamModel).toBe('a-model');
  });

  it('lists names and aliases with their providers and the name each goes upstream as', () => {
    expect(router.list()).toEqual([
      { id: 'gpt-4o-mini', provider: 'openai', upstreamModel: 'gpt-4o-mini' },
      { id: 'meta-llama/Llama-3', provider: 'openai', upstreamModel: 'meta-llama/Llama-3' },
      { id: 'claude-sonnet-4-5', provider: 'claude', upstreamModel: 'claude-sonnet-4-5' },
      { id: 'claude-haiku-4-5', provider: 'claude', upstreamModel: 'claude-haiku-4-5' },
      { id: 'llama', provider: 'openai', upstreamModel: 'meta-llama/Llama-3' },
      { id: 'sonnet', provider: 'claude', upstreamModel: 'claude-sonnet-4-5' },
    ]);
    router.list().pop();
    expect(router.list()).toHaveLength(6);
  });

  it("carries a model entry's own max_tokens cap through its name, alias and prefix form, and none otherwise", () => {
    const capped = createModelRouter({
      big: provider('anthropic', [{ name: 'claude-big', alias: 'big', max_tokens: 200_000 }, { name: 'claude-plain' }]),
      any: provider('openai', []),
    });
    for (const model of ['claude-big', 'big', 'big/big', 'big/claude-big']) expect(capped.resolve(model)?.maxTokens).toBe(200_000);
    for (const model of ['claude-plain', 'big/claude-plain', 'any/whatever']) expect(capped.resolve(model)).not.toHaveProperty('maxTokens');
  });
});
