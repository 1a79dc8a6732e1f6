import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../config/schema.js';
import type { UpstreamCredential } from '../providers/types.js';
import { CredentialPool, credentialsFromConfig } from './credential-pool.js';
import { compileModelPatterns } from './model-patterns.js';
import { createModelRouter } from './model-router.js';

/** Routing extras (issue 12): excluded models with wildcards per provider and per key, aliases per key. */
const gemini: ProviderConfig = {
  type: 'gemini',
  base_url: 'https://generativelanguage.googleapis.com/v1beta',
  api_keys: [
    'test-upstream-key-0001',
    { key: 'test-upstream-key-0002', models: [{ name: 'gemini-2.5-pro', alias: 'pro-paid' }], excluded_models: ['*-flash'] },
    { key: 'test-upstream-key-0003', models: [{ name: 'gemini-2.5-pro', alias: 'pro-paid' }] },
  ],
  models: [{ name: 'gemini-2.5-flash', alias: 'flash' }, { name: 'gemini-2.0-preview' }, { name: 'gemini-1.5-pro' }],
  excluded_models: ['*-preview', 'gemini-1.*'],
};
const local: ProviderConfig = { type: 'openai', base_url: 'http://127.0.0.1:1/v1', api_keys: ['test-upstream-key-0101'], models: [], excluded_models: ['secret-*'] };
const router = createModelRouter({ gemini, local });

describe('compileModelPatterns', () => {
  it('matches whole names, * as any run, every other character literally', () => {
    const patterns = compileModelPatterns(['gemini-2.5-*', '*-preview', 'a.b']);
    expect(['gemini-2.5-pro', 'x-preview', 'a.b'].map((name) => patterns.matches(name))).toEqual([true, true, true]);
    expect(['gemini-2.0-pro', 'x-preview-2', 'aXb', 'pre-gemini-2.5-x'].map((name) => patterns.matches(name))).toEqual([false, false, false, false]);
    expect(compileModelPatterns(['(a|b)+']).matches('aa')).toBe(false); // no regex syntax gets through
    expect(compileModelPatterns(undefined).matches('anything')).toBe(false);
  });
});

describe('excluded models', () => {
  it('takes a provider-excluded name out of routing, its aliases and the prefix form, and out of the list', () => {
    expect(router.resolve('gemini-2.0-preview')).toBeUndefined();
    expect(router.resolve('gemini/gemini-1.5-pro')).toBeUndefined();
    expect(router.resolve('local/secret-model')).toBeUndefined();
    expect(router.resolve('local/open-model')?.upstreamModel).toBe('open-model');
    expect(router.list().map((model) => model.id)).not.toContain('gemini-2.0-preview');
    expect(router.list().map((model) => model.id)).not.toContain('gemini-1.5-pro');
  });

  it('skips a key whose excluded_models match, so its pool serves the model with the other keys only', () => {
    const credentials = credentialsFromConfig('gemini', gemini);
    expect(credentials[1]?.excludedModels?.matches('gemini-2.5-flash')).toBe(true);
    const pool = new CredentialPool(credentials, { now: () => 0 });
    const notExcluded = (credential: UpstreamCredential): boolean => credential.kind !== 'api_key' || credential.excludedModels?.matches('gemini-2.5-flash') !== true;
    const picked = new Set<string>();
    for (let turn = 0; turn < 6; turn++) picked.add(pool.pick(new Set(), notExcluded)?.id ?? 'none');
    expect([...picked].sort()).toEqual(['gemini-key-1', 'gemini-key-3']);
  });
});

describe('aliases per key', () => {
  it('routes a key-declared alias to its name, served only by the keys that declare it, and lists it', () => {
    const route = router.resolve('pro-paid');
    expect(route).toMatchObject({ provider: 'gemini', upstreamModel: 'gemini-2.5-pro' });
    expect([...(route?.credentialIds ?? [])].sort()).toEqual(['gemini-key-2', 'gemini-key-3']);
    expect(router.resolve('gemini/pro-paid')?.credentialIds?.size).toBe(2);
    expect(router.list().map((model) => model.id)).toEqual(expect.arrayContaining(['gemini-2.5-flash', 'flash', 'gemini-2.5-pro', 'pro-paid']));
  });

  it('leaves provider-level names served by every key', () => {
    expect(router.resolve('flash')?.credentialIds).toBeUndefined();
  });
});
