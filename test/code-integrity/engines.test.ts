import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * The README and `engines` promise Node 20.19: every installed package must accept it, or `npm ci`
 * on Node 20 warns EBADENGINE (cookie@2 via light-my-request did; package.json `overrides` pins
 * light-my-request 6.6.0, which uses cookie 1). semver is the one npm itself uses for this check.
 */
const semver = createRequire(import.meta.url)('semver') as { satisfies: (version: string, range: string) => boolean };
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
const lockfile = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[] }>;
};

describe('engines: the lockfile keeps the Node 20.19 promise', () => {
  it('package.json promises Node 20.19', () => {
    expect(manifest.engines.node).toBe('>=20.19.0');
  });

  it('every locked package accepts Node 20.19.0 (no EBADENGINE on npm ci)', () => {
    const refusing = Object.entries(lockfile.packages)
      .filter(([path, entry]) => path !== '' && !Array.isArray(entry.engines) && entry.engines?.node !== undefined)
      .filter(([, entry]) => !semver.satisfies('20.19.0', (entry.engines as { node: string }).node))
      .map(([path, entry]) => `${path} (engines.node ${(entry.engines as { node: string }).node})`);
    expect(refusing).toEqual([]);
  });
});
