import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readUsageFile } from '../../src/usage/usage-store.js';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { runBinary, stopProcessTree, until, within, type RunningProcess } from '../helpers/binary-process.js';
import { generateTestClientKey, sha256Hex } from '../helpers/gateway.js';
import { post } from '../helpers/http.js';

/**
 * Issue 14: usage survives a restart, a SIGKILL included, and so does a key's daily budget (memory
 * backend: the budget counters are charged from the usage file at start). What a SIGKILL loses is
 * what was recorded in the last `usage.flush_interval_ms` (docs/keys.md#usage): shown with a long
 * interval, where a request answered just before the kill is not in the file.
 */
const body = { model: 'gpt-test', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] };
const estimate = Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 4) + 1;
/** Two requests fit (the first settles at 19 = 12 + 7 tokens); a third does not once two are charged. */
const budget = 19 + estimate + 9;

describe('usage and budgets across restarts (the built binary)', () => {
  const processes: RunningProcess[] = [];
  let directory: string;
  let stub: StubUpstream;
  const clientKey = generateTestClientKey();

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'cliproxy-usage-restart-'));
    stub = await startOpenAIStub();
    expect(38 + estimate).toBeGreaterThan(budget);
  });
  afterAll(async () => {
    // Every process (a primary's workers included) gone before the directory is removed.
    await Promise.all(processes.map((running) => stopProcessTree(running)));
    await stub.close();
    rmSync(directory, { recursive: true, force: true });
  });

  function writeConfig(name: string, flushIntervalMs: number): string {
    const cwd = join(directory, name);
    mkdirSync(cwd, { recursive: true, mode: 0o700 });
    const config = {
      server: { host: '127.0.0.1', port: 0 },
      auth: { api_keys: [{ id: 'ci', key_sha256: sha256Hex(clientKey), budgets: { tokens_per_day: budget } }] },
      usage: { flush_interval_ms: flushIntervalMs },
      providers: { oai: { type: 'openai', base_url: stub.baseUrl, allow_private_network: true, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] } },
    };
    writeFileSync(join(cwd, 'config.yaml'), stringify(config), { mode: 0o600 });
    return cwd;
  }

  async function start(cwd: string, extraArguments: string[] = []): Promise<{ running: RunningProcess; url: string }> {
    const running = runBinary(['serve', '--config', join(cwd, 'config.yaml'), ...extraArguments], cwd);
    processes.push(running);
    return { running, url: await within(running.url, 60_000, `the gateway to listen:\n${running.output()}`) };
  }

  const chat = (url: string) => post(`${url}/v1/chat/completions`, body, { authorization: `Bearer ${clientKey}` });
  const usageFile = (cwd: string) => join(cwd, 'data', 'usage.jsonl');
  const totals = async (cwd: string) => {
    const entries = await readUsageFile(usageFile(cwd));
    return entries.reduce((sum, entry) => ({ requests: sum.requests + entry.requests, errors: sum.errors + entry.errors, input: sum.input + entry.inputTokens, output: sum.output + entry.outputTokens }), { requests: 0, errors: 0, input: 0, output: 0 });
  };

  // Three process runs: bounded at 150 s for a loaded machine (each wait waits for its event).
  it('SIGKILL after the flush: the usage is kept, and the restarted process still refuses what the budget no longer holds', { timeout: 150_000 }, async () => {
    const cwd = writeConfig('kept', 100);
    const first = await start(cwd);
    expect((await chat(first.url)).status).toBe(200);
    expect((await chat(first.url)).status).toBe(200);
    expect((await chat(first.url)).status).toBe(429);
    await until(async () => (await totals(cwd)).requests === 3, 30_000, 'the usage to be flushed');
    first.running.child.kill('SIGKILL');
    await first.running.closed;
    expect(await totals(cwd)).toEqual({ requests: 3, errors: 1, input: 24, output: 14 });

    const second = await start(cwd);
    const refused = await chat(second.url);
    expect(refused.status).toBe(429);
    expect((refused.json as { error: { code: string } }).error.code).toBe('GW_KEY_BUDGET_EXCEEDED');
    second.running.child.kill('SIGTERM');
    expect(await second.running.closed).toBe(0);
    // A graceful stop writes what was pending: the refusal is counted.
    expect(await totals(cwd)).toEqual({ requests: 4, errors: 2, input: 24, output: 14 });

    // `cliproxyapi usage` prints the same from the file.
    const printed = runBinary(['usage', '--config', join(cwd, 'config.yaml'), '--key', 'ci', '--json'], cwd);
    expect(await within(printed.closed, 50_000, 'usage to print')).toBe(0);
    expect(JSON.parse(printed.output())).toMatchObject({ usage: [{ key: 'ci', requests: 4, errors: 2, input_tokens: 24, output_tokens: 14 }] });
  });

  // Two starts of a primary and two workers (three processes each): bounded at 180 s for a loaded machine.
  it('serve --workers 2: a full restart of the pool still refuses what the budget no longer holds (the primary charges the counters it keeps from the usage file)', { timeout: 180_000 }, async () => {
    const cwd = writeConfig('workers', 100);
    const first = await start(cwd, ['--workers', '2']);
    expect((await chat(first.url)).status).toBe(200);
    expect((await chat(first.url)).status).toBe(200);
    expect((await chat(first.url)).status).toBe(429);
    first.running.child.kill('SIGTERM');
    expect(await within(first.running.closed, 60_000, 'the pool to stop')).toBe(0);
    // The workers stopped gracefully: everything they recorded is in the file.
    expect(await totals(cwd)).toEqual({ requests: 3, errors: 1, input: 24, output: 14 });

    const second = await start(cwd, ['--workers', '2']);
    const refused = await chat(second.url);
    expect(refused.status).toBe(429);
    expect((refused.json as { error: { code: string } }).error.code).toBe('GW_KEY_BUDGET_EXCEEDED');
    second.running.child.kill('SIGTERM');
    expect(await within(second.running.closed, 60_000, 'the pool to stop')).toBe(0);
  });

  it('SIGKILL before the flush loses at most that interval: a request answered just before is not in the file', { timeout: 90_000 }, async () => {
    const cwd = writeConfig('lost', 60_000);
    const first = await start(cwd);
    expect((await chat(first.url)).status).toBe(200);
    first.running.child.kill('SIGKILL');
    await first.running.closed;
    expect((await totals(cwd)).requests).toBe(0);
  });
});
