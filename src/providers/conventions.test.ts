import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { providerAdapters } from './registry.js';

/**
 * STYLE rule 1: one provider is one folder with a fixed file set, listed in the explicit registry.
 * This test is the tool that checks it, so a half-added provider fails CI instead of review.
 */
const providersDirectory = fileURLToPath(new URL('.', import.meta.url));
const providerFolders = readdirSync(providersDirectory, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const registrySource = readFileSync(new URL('./registry.ts', import.meta.url), 'utf8');

describe('provider folder conventions', () => {
  it('finds provider folders at all', () => {
    expect(providerFolders.length).toBeGreaterThan(0);
  });

  it.each(providerFolders)('%s has adapter.ts, errors.ts, a non-empty __fixtures__/ and a test', (folder) => {
    const files = readdirSync(new URL(`./${folder}/`, import.meta.url));
    expect(files).toContain('adapter.ts');
    expect(files).toContain('errors.ts');
    expect(files).toContain('__fixtures__');
    const fixtures = new URL(`./${folder}/__fixtures__/`, import.meta.url);
    expect(statSync(fixtures).isDirectory()).toBe(true);
    expect(readdirSync(fixtures).length).toBeGreaterThan(0);
    expect(files.some((file) => file.endsWith('.test.ts'))).toBe(true);
  });

  it.each(providerFolders)('%s is imported and listed in registry.ts', (folder) => {
    expect(registrySource).toContain(`from './${folder}/adapter.js'`);
    expect(Object.keys(providerAdapters)).toContain(folder);
  });

  it('every registry entry has a folder, and its adapter type matches its key', () => {
    expect(Object.keys(providerAdapters).sort()).toEqual(providerFolders);
    for (const [type, adapter] of Object.entries(providerAdapters)) expect(adapter.type).toBe(type);
  });
});
