import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSince, summarizeUsage, tokensByKeySince } from './usage-query.js';
import { hourOf, readUsageFile, UsageStore } from './usage-store.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-usage-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const where = (key: string, hour = hourOf(Date.UTC(2026, 11, 3, 15))) => ({ hour, key, provider: 'oai', model: 'gpt-test', credential: 'oai-key-0' });
const delta = (input: number, output: number) => ({ requests: 1, errors: 0, inputTokens: input, outputTokens: output, cachedTokens: 0 });

describe('UsageStore', () => {
  it('batches records in memory, appends them at flush in a 0600 file, and sums them when read', async () => {
    const file = join(directory, 'data', 'usage.jsonl');
    const store = new UsageStore({ file, flushIntervalMs: 60_000, now: () => Date.UTC(2026, 11, 3, 16) });
    await store.open();
    store.record(where('alice'), delta(10, 5));
    store.record(where('alice'), delta(2, 1));
    store.record(where('bob'), delta(1, 1));
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(store.unflushed()).toHaveLength(2);
    await store.flush();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(store.unflushed()).toEqual([]);
    const entries = await readUsageFile(file);
    expect(entries.find((entry) => entry.key === 'alice')).toMatchObject({ requests: 2, inputTokens: 12, outputTokens: 6 });
    store.record(where('alice'), delta(100, 0));
    expect((await store.snapshot()).filter((entry) => entry.key === 'alice').reduce((sum, entry) => sum + entry.inputTokens, 0)).toBe(112);
    await store.close();
  });

  it('skips a torn last line (a crash mid-append) and counts everything before it; compaction rewrites one line per entry', async () => {
    const file = join(directory, 'usage.jsonl');
    const store = new UsageStore({ file, flushIntervalMs: 60_000, now: () => Date.UTC(2026, 11, 3, 16) });
    await store.open();
    store.record(where('alice'), delta(10, 5));
    await store.flush();
    store.record(where('alice'), delta(10, 5));
    await store.close();
    appendFileSync(file, '{"h":"2026-12-03T15","k":"alice","p":"oai","m":"gpt-te');
    expect((await readUsageFile(file))[0]).toMatchObject({ requests: 2, inputTokens: 20 });
    const reopened = new UsageStore({ file, flushIntervalMs: 60_000, now: () => Date.UTC(2026, 11, 3, 16) });
    const entries = await reopened.open();
    await reopened.close();
    expect(entries).toHaveLength(1);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('drops entries older than the retention at compaction', async () => {
    const file = join(directory, 'usage.jsonl');
    const now = Date.UTC(2026, 11, 3, 16);
    const first = new UsageStore({ file, flushIntervalMs: 60_000, now: () => now });
    await first.open();
    first.record(where('old', hourOf(now - 500 * 86_400_000)), delta(1, 1));
    first.record(where('new', hourOf(now)), delta(1, 1));
    await first.close();
    const second = new UsageStore({ file, flushIntervalMs: 60_000, now: () => now });
    expect((await second.open()).map((entry) => entry.key)).toEqual(['new']);
    await second.close();
  });
});

describe('summarizeUsage', () => {
  const entries = [
    { ...where('alice', '2026-12-03T15'), ...delta(10, 5), credential: 'oai-key-0' },
    { ...where('alice', '2026-12-03T15'), ...delta(20, 5), credential: 'oai-key-1' },
    { ...where('alice', '2026-11-01T00'), ...delta(1000, 0) },
    { ...where('bob', '2026-12-03T14'), ...delta(1, 1) },
  ];
  it('sums per key since a time, optionally split, and filters by key', () => {
    const since = Date.UTC(2026, 11, 3, 0);
    expect(summarizeUsage(entries, { since })).toEqual([
      { key: 'alice', requests: 2, errors: 0, input_tokens: 30, output_tokens: 10, cached_tokens: 0 },
      { key: 'bob', requests: 1, errors: 0, input_tokens: 1, output_tokens: 1, cached_tokens: 0 },
    ]);
    expect(summarizeUsage(entries, { since, key: 'alice', by: 'credential' }).map((row) => [row.credential, row.input_tokens])).toEqual([
      ['oai-key-1', 20],
      ['oai-key-0', 10],
    ]);
    expect(tokensByKeySince(entries, since).get('alice')).toBe(40);
  });
  it('reads --since', () => {
    expect(parseSince('7d')).toBe(7 * 86_400_000);
    expect(parseSince('90m')).toBe(5_400_000);
    expect(parseSince('7 days')).toBeUndefined();
  });
});
