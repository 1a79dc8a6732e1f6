import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { generateTestClientKey, sha256Hex } from '../helpers/gateway.js';
import { runBinary, stopProcessTree, until, within, type RunningProcess } from '../helpers/binary-process.js';
import { promtoolAvailable, promtoolCheckMetrics } from '../helpers/promtool.js';

/**
 * `serve --workers N` as a user runs it: real processes (the built binary, its primary and workers)
 * on one loopback port. Each process is bounded in time and killed, with its workers, in afterEach.
 */
const processes: RunningProcess[] = [];
const directories: string[] = [];
let stub: StubUpstream;

beforeAll(async () => {
  stub = await startOpenAIStub();
});
afterAll(async () => {
  await stub.close();
});
afterEach(async () => {
  // Every process (primary and workers) gone before its directory is removed: see stopProcessTree.
  await Promise.all(processes.splice(0).map((running) => stopProcessTree(running)));
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/**
 * Every wait ends on an event (a log line, an answer, an exit); these only bound a hang. Under a
 * full suite on the two shared cores one start of the cluster (three Node processes) has taken
 * most of a minute.
 */
const eventBoundMs = 60_000;
const testBoundMs = 180_000;

function workDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'cliproxy-workers-'));
  directories.push(directory);
  return directory;
}

function run(args: string[], cwd: string): RunningProcess {
  const running = runBinary(args, cwd);
  processes.push(running);
  return running;
}

/** A config with the stub as provider `oai`, one client key, and the limits a test asks for. */
function writeConfig(cwd: string, clientKey: string, extra: { burst?: number; providerRpm?: number; tls?: Record<string, unknown>; managementKey?: string; managementRole?: string } = {}): string {
  const config = {
    server: {
      host: '127.0.0.1',
      port: 0,
      security: { rate_limit: { enabled: true, requests_per_second: 1, burst: extra.burst ?? 1_000 } },
      timeouts: { shutdown_grace_ms: 10_000 },
      ...(extra.tls === undefined ? {} : { tls: extra.tls }),
    },
    ...(extra.managementKey === undefined ? {} : { management: { enabled: true, keys: [{ id: 'scraper', role: extra.managementRole ?? 'auditor', key_sha256: sha256Hex(extra.managementKey) }] } }),
    auth: { dir: join(cwd, 'data/auths'), client_keys_file: join(cwd, 'data/client-keys.json'), encryption: { key_file: join(cwd, 'data/encryption.key') }, api_keys: [{ id: 'worker-test', key_sha256: sha256Hex(clientKey) }] },
    providers: {
      oai: {
        type: 'openai',
        base_url: stub.baseUrl,
        allow_private_network: true,
        api_keys: ['test-upstream-key-0001'],
        models: [{ name: 'gpt-test' }],
        ...(extra.providerRpm === undefined ? {} : { rate_limit: { requests_per_minute: extra.providerRpm } }),
      },
    },
  };
  const path = join(cwd, 'config.yaml');
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

interface Answer {
  status: number;
  body: string;
}

/** One request on a connection of its own (no keep-alive), so the cluster hands each to a worker in turn. */
function send(url: string, path: string, options: { key?: string; body?: unknown; localAddress?: string; method?: string } = {}): Promise<Answer> {
  const target = new URL(path, url);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      target,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: false,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        headers: { ...(options.key === undefined ? {} : { authorization: `Bearer ${options.key}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        timeout: eventBoundMs,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (piece: string) => (text += piece));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('request timed out')));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The pids the workers announced in their "worker listening" lines, in order. */
function workerPids(output: string): number[] {
  return [...output.matchAll(/"pid":(\d+)[^\n]*"msg":"worker listening"/g)].map((match) => Number(match[1]));
}

/** The worker ids of the access lines (`"worker":N` on each line a worker writes). */
function workersInAccessLines(output: string): Set<number> {
  return new Set([...output.matchAll(/"worker":(\d+),"reqId"[^\n]*"msg":"request"/g)].map((match) => Number(match[1])));
}

const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hello' }] };

describe('serve --workers (real processes on one port)', () => {
  it('a burst past the per-IP limit, spread over 2 workers, admits the limit once (not once per worker); a provider budget likewise', async () => {
    const cwd = workDirectory();
    const key = generateTestClientKey();
    const config = writeConfig(cwd, key, { burst: 20, providerRpm: 10 });
    const cluster = run(['serve', '--workers', '2', '--config', config], cwd);
    const url = await within(cluster.url, eventBoundMs, 'the listening line');
    await until(() => workerPids(cluster.output()).length === 2, eventBoundMs, 'both workers\' listening lines');

    const started = Date.now();
    const burst = await Promise.all(Array.from({ length: 40 }, () => send(url, '/v1/models', { key })));
    const elapsedMs = Date.now() - started;
    const admitted = burst.filter((answer) => answer.status === 200).length;
    expect(burst.filter((answer) => answer.status !== 200).every((answer) => answer.status === 429)).toBe(true);
    // The bucket refills 1 token a second: a burst that took longer legitimately admits that many more.
    // Without the primary's shared store each worker would admit its own 20 (about 40 in all).
    expect(admitted).toBeGreaterThanOrEqual(20);
    expect(admitted).toBeLessThanOrEqual(20 + Math.floor(elapsedMs / 1_000));
    await until(() => workersInAccessLines(cluster.output()).size === 2, eventBoundMs, 'access lines from both workers');

    // The provider budget (10 a minute, one token every 6 s) from another loopback address (its own per-IP bucket).
    // As above, a burst that took longer legitimately admits one more per 6 s (no assertion on speed).
    const budgetStarted = Date.now();
    const calls = await Promise.all(Array.from({ length: 16 }, () => send(url, '/v1/chat/completions', { key, body: chat, localAddress: '127.0.0.2' })));
    const budgetElapsedMs = Date.now() - budgetStarted;
    const budgetAdmitted = calls.filter((answer) => answer.status === 200).length;
    expect(calls.filter((answer) => answer.status !== 200).every((answer) => answer.status === 429)).toBe(true);
    expect(budgetAdmitted).toBeGreaterThanOrEqual(10);
    expect(budgetAdmitted).toBeLessThanOrEqual(10 + Math.floor(budgetElapsedMs / 6_000));
  }, testBoundMs);

  it('/metrics reports the whole cluster: counters summed over the workers, shared gauges not multiplied; the workers write one audit chain', async () => {
    const cwd = workDirectory();
    const key = generateTestClientKey();
    const scraperKey = `test-management-${generateTestClientKey()}`;
    const config = writeConfig(cwd, key, { managementKey: scraperKey });
    const cluster = run(['serve', '--workers', '2', '--config', config], cwd);
    const url = await within(cluster.url, eventBoundMs, 'the listening line');
    await until(() => workerPids(cluster.output()).length === 2, eventBoundMs, 'both workers\' listening lines');
    // Each on a connection of its own: the cluster hands them to the workers in turn.
    for (let index = 0; index < 12; index++) expect((await send(url, '/v1/models', { key })).status).toBe(200);
    for (let index = 0; index < 5; index++) expect((await send(url, '/v1/models', { key: 'test-client-not-a-known-key' })).status).toBe(401);
    await until(() => workersInAccessLines(cluster.output()).size === 2, eventBoundMs, 'access lines from both workers');

    const scrape = await send(url, '/metrics', { key: scraperKey });
    expect(scrape.status).toBe(200);
    const sampleSum = (prefix: string) =>
      scrape.body
        .split('\n')
        .filter((line) => line.startsWith(prefix))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    // Either worker alone counted about half of these.
    expect(sampleSum('cliproxy_requests_total{')).toBe(17);
    expect(sampleSum('cliproxy_auth_failures_total{scope="client",reason="invalid_key"}')).toBe(5);
    expect(sampleSum('cliproxy_cluster_workers ')).toBe(2);
    expect(sampleSum('cliproxy_cluster_workers_reporting ')).toBe(2);
    expect(scrape.body.match(/^# TYPE cliproxy_requests_total counter$/gm)).toHaveLength(1);
    if (promtoolAvailable()) expect(promtoolCheckMetrics(scrape.body)).toEqual({ status: 0, output: '' });
  }, testBoundMs);

  it('a killed worker is replaced and the port keeps serving; a config edit reaches every worker', async () => {
    const cwd = workDirectory();
    const key = generateTestClientKey();
    const config = writeConfig(cwd, key);
    const cluster = run(['serve', '--workers', '2', '--config', config], cwd);
    const url = await within(cluster.url, eventBoundMs, 'the listening line');
    await until(() => workerPids(cluster.output()).length === 2, eventBoundMs, 'both workers\' listening lines');
    const [victim, survivor] = workerPids(cluster.output());
    process.kill(victim!, 'SIGKILL');
    await until(() => cluster.output().includes('a worker exited; starting a replacement'), eventBoundMs, 'the primary noticing the exit');
    for (let index = 0; index < 6; index += 1) expect((await send(url, '/v1/models', { key })).status).toBe(200);
    await until(() => workerPids(cluster.output()).length === 3, eventBoundMs, 'a replacement worker listening');
    const replacement = workerPids(cluster.output())[2]!;
    expect([victim, survivor]).not.toContain(replacement);
    const statuses = await Promise.all(Array.from({ length: 8 }, () => send(url, '/v1/models', { key }).then((answer) => answer.status)));
    expect(statuses).toEqual(Array(8).fill(200));

    // Hot reload through the primary: the old key revoked, a new one accepted, by both workers.
    const newKey = generateTestClientKey();
    writeConfig(cwd, newKey);
    await until(() => (cluster.output().match(/"msg":"config reloaded"/g) ?? []).length >= 2, eventBoundMs, 'both workers reloading');
    const afterReload = await Promise.all(Array.from({ length: 8 }, (_, index) => send(url, '/v1/models', { key: index % 2 === 0 ? key : newKey })));
    expect(afterReload.map((answer) => answer.status)).toEqual([401, 200, 401, 200, 401, 200, 401, 200]);
  }, testBoundMs);

  it('a provider switched off through one worker\'s management API is off in every worker, a replacement included; switched on likewise', async () => {
    const cwd = workDirectory();
    const key = generateTestClientKey();
    const operatorKey = `test-management-${generateTestClientKey()}`;
    const config = writeConfig(cwd, key, { managementKey: operatorKey, managementRole: 'operator' });
    const cluster = run(['serve', '--workers', '2', '--config', config], cwd);
    const url = await within(cluster.url, eventBoundMs, 'the listening line');
    await until(() => workerPids(cluster.output()).length === 2, eventBoundMs, 'both workers\' listening lines');
    const relayed = () => (cluster.output().match(/"msg":"provider switched; every worker follows"/g) ?? []).length;
    // Each on a connection of its own: the primary hands them to the workers in turn. The primary
    // relays a switch before it hands over any later connection, on the same IPC channel.
    const chats = async (count: number) => {
      const statuses: string[] = [];
      for (let index = 0; index < count; index++) {
        const answer = await send(url, '/v1/chat/completions', { key, body: chat });
        statuses.push(answer.status === 200 ? '200' : `${answer.status} ${/"code":"([A-Z_]+)"/.exec(answer.body)?.[1] ?? ''}`);
      }
      return statuses;
    };
    expect((await send(url, '/v0/management/providers/oai/disable', { key: operatorKey, method: 'POST' })).status).toBe(200);
    await until(() => relayed() === 1, eventBoundMs, 'the primary relaying the switch');
    expect(await chats(6)).toEqual(Array(6).fill('503 GW_PROVIDER_DISABLED'));
    // Both workers answered some of them (their access lines reach the pipe on their own schedule).
    await until(() => workersInAccessLines(cluster.output()).size === 2, eventBoundMs, 'access lines from both workers');

    // A replacement worker starts with the switches in force.
    const [victim] = workerPids(cluster.output());
    process.kill(victim!, 'SIGKILL');
    await until(() => workerPids(cluster.output()).length === 3, eventBoundMs, 'a replacement worker listening');
    expect(await chats(6)).toEqual(Array(6).fill('503 GW_PROVIDER_DISABLED'));

    expect((await send(url, '/v0/management/providers/oai/enable', { key: operatorKey, method: 'POST' })).status).toBe(200);
    await until(() => relayed() === 2, eventBoundMs, 'the primary relaying the switch back');
    expect(await chats(6)).toEqual(Array(6).fill('200'));
  }, testBoundMs);

  it('SIGTERM lets an in-flight stream finish, then every process exits 0', async () => {
    const cwd = workDirectory();
    const key = generateTestClientKey();
    const config = writeConfig(cwd, key);
    const cluster = run(['serve', '--workers', '2', '--config', config], cwd);
    const url = await within(cluster.url, eventBoundMs, 'the listening line');
    stub.reset();
    stub.slowStreamNext(150);
    const streaming = send(url, '/v1/chat/completions', { key, body: { ...chat, stream: true } });
    await until(() => stub.requests.length === 1, eventBoundMs, 'the stream reaching the upstream');
    cluster.child.kill('SIGTERM');
    const answer = await within(streaming, eventBoundMs, 'the stream to finish');
    expect(answer.status).toBe(200);
    expect(answer.body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await within(cluster.closed, eventBoundMs, 'the cluster to exit')).toBe(0);
    expect(cluster.output()).toContain('"reason":"primary","msg":"worker shutting down"');
    expect(cluster.output()).not.toMatch(/"level":50/);
  }, testBoundMs);

  it('first start prints the generated client key once for the whole cluster', async () => {
    const cwd = workDirectory();
    const cluster = run(['serve', '--workers', '2'], cwd);
    await within(cluster.url, eventBoundMs, 'the listening line');
    const keys = cluster.output().match(/cpa_[A-Za-z0-9_-]{40,}/g) ?? [];
    expect(keys).toHaveLength(1);
    cluster.child.kill('SIGTERM');
    expect(await within(cluster.closed, eventBoundMs, 'exit')).toBe(0);
  }, testBoundMs);

  it.each([['0'], ['65'], ['two'], ['1.5'], ['-1']])('--workers %s is refused with a message naming it, before anything starts', async (value) => {
    const cwd = workDirectory();
    const refused = run(['serve', '--workers', value], cwd);
    expect(await within(refused.closed, eventBoundMs, 'exit')).not.toBe(0);
    expect(refused.output()).toMatch(/--workers/);
    expect(refused.output()).toContain(value === '0' || value === '65' ? `got ${value}` : `got "${value}"`);
    expect(refused.output()).not.toContain('listening');
  }, testBoundMs);

  it('a worker that cannot start (a world-readable TLS key) stops the cluster with its reason, exit non-zero', async () => {
    const cwd = workDirectory();
    const key = generateTestClientKey();
    writeFileSync(join(cwd, 'tls.crt'), 'not a certificate\n');
    writeFileSync(join(cwd, 'tls.key'), 'not a key\n', { mode: 0o644 });
    const config = writeConfig(cwd, key, { tls: { enabled: true, cert_file: join(cwd, 'tls.crt'), key_file: join(cwd, 'tls.key') } });
    const refused = run(['serve', '--workers', '2', '--config', config], cwd);
    expect(await within(refused.closed, eventBoundMs, 'exit')).not.toBe(0);
    expect(refused.output()).toContain('TLS_KEY_FILE_UNSAFE');
    expect(refused.output()).toContain('a worker failed to start');
    expect(refused.output()).not.toContain('cliproxyapi listening');
  }, testBoundMs);
});
