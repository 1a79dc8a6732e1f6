import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeClientKeyFile, type StoredClientKey } from '../../src/security/client-key-file.js';
import { check, doctor } from './doctor-run.js';
import { createHardenedTree, hardenedConfig, patched, type HardenedTree } from './hardened-tree.js';

/**
 * The `key-governance` doctor check on real key files (0600 in the tree's 0700 data directory),
 * written by the same writer `keys create` uses: expired and soon-expiring keys warn, disabled keys
 * are information, budget keys warn only where a restart resets their counters, a key file entry
 * `serve` would refuse fails naming it; no key or hash ever appears in the report.
 */
let tree: HardenedTree;
beforeEach(async () => {
  tree = await createHardenedTree();
});
afterEach(() => tree.remove());

const dayMs = 86_400_000;
const keyFile = () => join(tree.data, 'client-keys.json');

/** A stored key with a fresh random hash; the hashes are collected to show none is printed. */
const hashes: string[] = [];
function stored(id: string, fields: Partial<StoredClientKey> = {}): StoredClientKey {
  const hash = createHash('sha256').update(`cpa_${randomBytes(32).toString('base64url')}`).digest('hex');
  hashes.push(hash);
  return { id, key_sha256: hash, created_at: new Date().toISOString(), ...fields };
}

function expectNoHash(output: string): void {
  for (const hash of hashes) expect(output).not.toContain(hash);
}

describe('doctor key-governance', () => {
  it('passes for the hardened tree (one active key without expiry)', async () => {
    const run = await doctor(['--config', tree.configPath]);
    expect(check(run.report, 'key-governance')).toMatchObject({ status: 'pass', message: '1 client key(s): none expired or expiring within 7 days' });
  });

  it('warns on an expired key and one expiring within 7 days, lists disabled keys as info, and prints no hash', async () => {
    const now = Date.now();
    writeClientKeyFile(keyFile(), [
      stored('alice'),
      stored('old-ci', { expires_at: new Date(now - 2 * dayMs).toISOString() }),
      stored('contractor', { expires_at: new Date(now + 3 * dayMs).toISOString() }),
      stored('later', { expires_at: new Date(now + 30 * dayMs).toISOString() }),
      stored('paused', { disabled: true }),
    ]);
    const run = await doctor(['--config', tree.configPath]);
    const result = check(run.report, 'key-governance');
    expect(result.status).toBe('warn');
    expect(result.message).toBe('2 findings about the client keys');
    const details = result.details ?? [];
    expect(details[0]).toMatch(/^1 key\(s\) expired and refused: old-ci \(\d{4}-.*keys update ID --expires-in/);
    expect(details[1]).toMatch(/^1 key\(s\) expire within 7 days: contractor \(/);
    expect(details[2]).toBe('info: 1 key(s) disabled (refused until enabled): paused');
    expect(details.join('\n')).not.toContain('later');
    expect(run.code).toBe(0);
    expectNoHash(run.stdout);
    // --strict makes the warning fail the run.
    expect((await doctor(['--config', tree.configPath, '--strict'])).code).toBe(1);
  });

  it('budget keys warn only with usage off on the memory backend (a restart resets them); with --workers > 1 the primary charges them from the usage file: information about max_concurrency only', async () => {
    writeClientKeyFile(keyFile(), [stored('alice', { budgets: { tokens_per_day: 100_000 }, max_concurrency: 2 }), stored('bob', { rate_limit: { requests_per_minute: 60 } })]);
    const single = check((await doctor(['--config', tree.configPath])).report, 'key-governance');
    expect(single.status).toBe('pass');
    expect(single.details).toBeUndefined();

    const workers = await doctor(['--config', tree.configPath, '--workers', '4']);
    const result = check(workers.report, 'key-governance');
    expect(result.status).toBe('pass');
    // The per-minute limit (bob) and the budget (alice) are kept by the primary for every worker: no finding about them.
    expect(JSON.stringify(result)).not.toContain('bob');
    expect(result.details).toEqual(['info: max_concurrency is counted per process: with 4 processes alice may have up to 8 request(s) in flight']);
    expectNoHash(workers.stdout);

    tree.writeConfig(patched(hardenedConfig(), { usage: { enabled: false } }));
    const usageOff = check((await doctor(['--config', tree.configPath, '--workers', '4'])).report, 'key-governance');
    expect(usageOff.status).toBe('warn');
    expect(usageOff.message).toContain('1 key(s) with a token budget (alice)');
    expect(usageOff.message).toContain('usage.enabled: false');
    expect(usageOff.fix).toContain('state.backend: redis');

    tree.writeConfig(patched(hardenedConfig(), { usage: { enabled: false }, state: { backend: 'redis', url: 'redis://127.0.0.1:6379' } }));
    expect(check((await doctor(['--config', tree.configPath, '--workers', '4'])).report, 'key-governance').status).toBe('pass');
  });

  it('fails naming the entry when the key file has an entry serve would refuse', async () => {
    const good = stored('alice');
    writeFileSync(keyFile(), `${JSON.stringify({ v: 1, keys: [good, { ...stored('ci'), budgets: { tokens_per_day: -5 } }] })}\n`, { mode: 0o600 });
    const run = await doctor(['--config', tree.configPath]);
    const result = check(run.report, 'key-governance');
    expect(result.status).toBe('fail');
    expect(result.details?.some((line) => line.includes("(key 'ci')"))).toBe(true);
    expect(run.code).toBe(1);
    expectNoHash(run.stdout);

    // A date the schema admits but that does not exist is refused by the policy compiler, also by name.
    writeFileSync(keyFile(), `${JSON.stringify({ v: 1, keys: [good, stored('ghost', { expires_at: '2027-02-30T00:00:00Z' })] })}\n`, { mode: 0o600 });
    const impossible = check((await doctor(['--config', tree.configPath])).report, 'key-governance');
    expect(impossible.status).toBe('fail');
    expect(impossible.details?.join('\n')).toContain('ghost');
    expect(readFileSync(keyFile(), 'utf8')).toContain('ghost');
  });
});
