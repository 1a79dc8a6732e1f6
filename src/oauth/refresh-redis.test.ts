import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServerAvailable, startRedisServer, type RedisServerHandle } from '../state/__fixtures__/redis-server.js';
import { canary, oauthRecord, TokenStub } from './__fixtures__/refresh-support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const distRoot = resolve(here, '../../dist');
const replicaScript = resolve(here, '__fixtures__/refresh-replica.mjs');

interface Replica {
  child: ChildProcess;
  stderr: string[];
  nextLine: () => Promise<string>;
}

function startReplica(environment: Record<string, string>): Replica {
  const child = spawn(process.execPath, [replicaScript], { env: { ...process.env, ...environment }, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const pending: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter === undefined) pending.push(line);
    else waiter(line);
  });
  return {
    child,
    stderr,
    nextLine: () => {
      const line = pending.shift();
      return line === undefined ? new Promise((resolveLine) => waiters.push(resolveLine)) : Promise.resolve(line);
    },
  };
}

const hasRedis = redisServerAvailable();

describe.skipIf(!hasRedis)('OAuth refresh across two processes on one real Redis', () => {
  let redis: RedisServerHandle | undefined;
  let stub: TokenStub;
  let storeDirectory: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    stub = new TokenStub();
    await stub.start();
    storeDirectory = mkdtempSync(join(tmpdir(), 'cliproxy-refresh-store-'));
  });

  afterAll(async () => {
    await stub.stop();
    await redis?.stop();
    rmSync(storeDirectory, { recursive: true, force: true });
  });

  it('exactly one token call; both processes end up with the same new token, and no log line holds a token', async () => {
    stub.delayMs = 300; // both replicas are inside their refresh while the first one's token call runs
    const oldAccess = canary('old-access');
    const oldRefresh = canary('old-refresh');
    const record = oauthRecord({ id: 'claude-oauth-shared', access_token: oldAccess, refresh_token: oldRefresh, expires_at: Date.now() - 1_000 });
    writeFileSync(join(storeDirectory, `${record.id}.json`), JSON.stringify(record), { mode: 0o600 });
    const environment = { DIST_ROOT: distRoot, STORE_DIR: storeDirectory, REDIS_URL: redis!.url, TOKEN_URL: stub.url, CREDENTIAL_ID: record.id };
    const replicas = [startReplica(environment), startReplica(environment)];
    try {
      for (const replica of replicas) expect(await replica.nextLine()).toBe('ready');
      for (const replica of replicas) replica.child.stdin!.write('go\n');
      const results = await Promise.all(replicas.map(async (replica) => JSON.parse(await replica.nextLine()) as { accessToken: string }));
      await Promise.all(replicas.map((replica) => new Promise((resolveExit) => (replica.child.exitCode === null ? replica.child.once('exit', resolveExit) : resolveExit(undefined)))));

      expect(stub.calls).toHaveLength(1);
      const issued = stub.issued[0]!;
      expect(results.map((result) => result.accessToken)).toEqual([issued.accessToken, issued.accessToken]);
      const outcomes = replicas.flatMap((replica) => replica.stderr.filter((line) => line.includes('credential-refresh-end')).map((line) => (JSON.parse(line) as { outcome: string }).outcome));
      expect(outcomes.sort()).toEqual(['adopted', 'refreshed']);
      const logText = replicas.flatMap((replica) => replica.stderr).join('\n');
      for (const secret of [oldAccess, oldRefresh, issued.accessToken, issued.refreshToken]) expect(logText).not.toContain(secret);
    } finally {
      for (const replica of replicas) if (replica.child.exitCode === null) replica.child.kill('SIGKILL');
    }
  });
});
