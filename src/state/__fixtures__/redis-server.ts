import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A real, private redis-server for one test file: free loopback port, temp dir, no persistence.
 * Tests that need it skip (loudly) only when redis-server is not installed; CI installs it.
 */
export interface RedisServerHandle {
  url: string;
  /** Kills the server without warning (SIGKILL), as a crash or an OOM kill would; `stop` then only cleans up. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export function redisServerAvailable(): boolean {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  const available = found.error === undefined && found.status === 0;
  if (!available) {
    process.stderr.write('\n*** redis-server is not on PATH: the Redis state backend tests are SKIPPED. Install redis-server to run them. ***\n\n');
  }
  return available;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      if (Date.now() - started > deadlineMs) throw new Error('redis-server did not answer PING in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
}

export async function startRedisServer(): Promise<RedisServerHandle> {
  const directory = mkdtempSync(join(tmpdir(), 'cliproxy-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitForPing(url, child, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const exitedNow = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  };
  return {
    url,
    kill: () => exitedNow('SIGKILL'),
    stop: async () => {
      await exitedNow('SIGTERM');
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
