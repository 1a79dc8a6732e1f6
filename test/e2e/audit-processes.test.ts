import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { repositoryRoot, runBinary, spawnWatched, stopProcessTree, until, within, type RunningProcess } from '../helpers/binary-process.js';

/**
 * The audit chain across processes, with the built binary: a running server and CLI commands
 * append to one chain without forking it, and a writer killed with SIGKILL loses only the records
 * it had queued since its last flush (docs/audit-log.md), leaving a chain the next writer continues.
 */
const running: RunningProcess[] = [];
const directories: string[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((process_) => stopProcessTree(process_)));
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/**
 * Every wait below ends on an event (a log line, an exit); this only bounds a hang. Eight Node
 * processes start one after another in the first test: alone that takes ~4 s, on the two shared
 * cores under a full suite a single start has taken over 15 s.
 */
const eventBoundMs = 60_000;
const testBoundMs = 180_000;

function workDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'cliproxy-audit-e2e-'));
  directories.push(directory);
  return directory;
}

function track(process_: RunningProcess): RunningProcess {
  running.push(process_);
  return process_;
}

function records(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('one audit chain, several processes', () => {
  it('a serving server and CLI commands run meanwhile write one chain that verifies', async () => {
    const cwd = workDirectory();
    // The per-IP limiter would answer 429 (before the key is checked) to a loopback burst: raised here.
    const config = 'server:\n  security:\n    rate_limit: { requests_per_second: 1000, burst: 1000 }\naudit:\n  key_file: ./data/audit.key\n';
    writeFileSync(join(cwd, 'config.yaml'), config, { mode: 0o600 });
    const server = track(runBinary(['serve', '--config', 'config.yaml'], cwd));
    const url = await within(server.url, eventBoundMs, 'listening');
    const requests = 40;
    const keyIds = ['audit-a', 'audit-b', 'audit-c'];
    // Refused requests (each an auth-failure record) while CLI processes create and revoke keys.
    const traffic = (async () => {
      for (let index = 0; index < requests; index++) await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer test-client-wrong-${index}` } });
    })();
    for (const id of keyIds) {
      const created = track(runBinary(['keys', 'create', '--id', id, '--config', 'config.yaml'], cwd));
      expect(await within(created.closed, eventBoundMs, `keys create ${id}`)).toBe(0);
    }
    const revoked = track(runBinary(['keys', 'revoke', 'audit-b', '--config', 'config.yaml'], cwd));
    expect(await within(revoked.closed, eventBoundMs, 'keys revoke')).toBe(0);
    await traffic;
    server.child.kill('SIGTERM');
    expect(await within(server.closed, eventBoundMs, 'server exit')).toBe(0);

    const file = join(cwd, 'data', 'logs', 'audit.jsonl');
    const written = records(file);
    const types = written.map((record) => record['event_type']);
    expect(types.filter((type) => type === 'auth-failure')).toHaveLength(requests);
    expect(written.filter((record) => record['event_type'] === 'client-key-create').map((record) => record['user_id'])).toEqual(keyIds);
    expect(written.filter((record) => record['event_type'] === 'client-key-revoke')).toEqual([expect.objectContaining({ user_id: 'audit-b', result: 'success', actor: 'cli' })]);
    expect(types.at(-1)).toBe('server-stop');
    expect(written.map((record) => record['seq'])).toEqual(written.map((_, index) => index + 1));
    // Keyed chain: verify needs the key the server created (0600) at its first start.
    const verified = track(runBinary(['audit', 'verify', '--config', 'config.yaml'], cwd));
    expect(await within(verified.closed, eventBoundMs, 'audit verify')).toBe(0);
    expect(verified.output()).toMatch(/audit chain intact: \d+ record\(s\) in 1 file\(s\), HMAC-SHA-256/);
    // An edit is caught by the command, with exit code 1.
    const text = readFileSync(file, 'utf8').replace('"user_id":"audit-c"', '"user_id":"audit-x"');
    writeFileSync(file, text, { mode: 0o600 });
    const broken = track(runBinary(['audit', 'verify', '--config', 'config.yaml'], cwd));
    expect(await within(broken.closed, eventBoundMs, 'audit verify')).toBe(1);
    expect(broken.output()).toMatch(/audit chain BROKEN after \d+ intact record\(s\): audit\.jsonl:\d+ \(seq \d+\): edited/);
  }, testBoundMs);

  it('a writer killed with SIGKILL loses only what it had queued since its last flush; the next writer continues the chain', async () => {
    const cwd = workDirectory();
    const file = join(cwd, 'logs', 'audit.jsonl');
    const writer = track(
      spawnWatched(process.execPath, [resolve(repositoryRoot, 'test/fixtures/audit-crash-writer.mjs')], {
        cwd,
        env: { PATH: process.env.PATH ?? '', DIST_ROOT: resolve(repositoryRoot, 'dist'), AUDIT_FILE: file, FLUSHED: '25', QUEUED: '7' },
      }),
    );
    await until(() => writer.output().includes('queued 7'), eventBoundMs, 'the writer to queue its unflushed records');
    writer.child.kill('SIGKILL');
    await within(writer.closed, eventBoundMs, 'the killed writer to exit');
    const afterCrash = records(file).filter((record) => record['event_type'] === 'crash-test').map((record) => record['detail']);
    expect(afterCrash).toEqual(Array.from({ length: 25 }, (_, index) => `flushed-${index}`));
    expect((await verifyAuditChain([file], undefined)).ok).toBe(true);

    const next = track(
      spawnWatched(process.execPath, [resolve(repositoryRoot, 'test/fixtures/audit-crash-writer.mjs')], {
        cwd,
        env: { PATH: process.env.PATH ?? '', DIST_ROOT: resolve(repositoryRoot, 'dist'), AUDIT_FILE: file, FLUSHED: '3', QUEUED: '0' },
      }),
    );
    await until(() => next.output().includes('queued 0'), eventBoundMs, 'the second writer');
    next.child.kill('SIGKILL');
    await within(next.closed, eventBoundMs, 'the second writer to exit');
    expect(await verifyAuditChain([file], undefined)).toMatchObject({ ok: true, records: 1 + 25 + 3 });
  }, testBoundMs);
});
