import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStateBackend } from './memory.js';
import { RedisStateBackend } from './redis.js';
import type { StateBackend } from './types.js';
import { redisServerAvailable, startRedisServer, type RedisServerHandle } from './__fixtures__/redis-server.js';

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** The same contract for both backends: the memory one is the reference, Redis must match it. */
function contract(makeBackend: () => StateBackend, closeBackend: (backend: StateBackend) => Promise<void> = (backend) => backend.close()): void {
  it('a lock excludes a second owner until released, and only its owner can release it', async () => {
    const first = makeBackend();
    const second = makeBackend();
    try {
      const lease = await first.tryLock('refresh:a', 5_000);
      expect(lease).toBeDefined();
      expect(await second.tryLock('refresh:a', 5_000)).toBeUndefined();
      expect(await second.isLocked('refresh:a')).toBe(true);
      expect(await second.unlock({ name: 'refresh:a', owner: 'not-the-owner', ttlMs: 5_000 })).toBe(false);
      expect(await first.unlock(lease!)).toBe(true);
      expect(await second.isLocked('refresh:a')).toBe(false);
      expect(await second.tryLock('refresh:a', 5_000)).toBeDefined();
    } finally {
      await Promise.all([closeBackend(first), closeBackend(second)]);
    }
  });

  it('a lock expires after its TTL (a crashed owner frees it)', async () => {
    const backend = makeBackend();
    try {
      const lease = await backend.tryLock('refresh:b', 60);
      expect(lease).toBeDefined();
      await sleep(120);
      const next = await backend.tryLock('refresh:b', 5_000);
      expect(next).toBeDefined();
      expect(await backend.unlock(lease!)).toBe(false); // the old owner cannot free the new owner's lock
    } finally {
      await closeBackend(backend);
    }
  });

  it('values live for their TTL; counters count within a window', async () => {
    const backend = makeBackend();
    try {
      await backend.setValue('result:c', 'refreshed', 80);
      expect(await backend.getValue('result:c')).toBe('refreshed');
      expect(await backend.increment('rpm:key-1', 2, 80)).toBe(2);
      expect(await backend.increment('rpm:key-1', 3, 80)).toBe(5);
      await sleep(150);
      expect(await backend.getValue('result:c')).toBeUndefined();
      expect(await backend.increment('rpm:key-1', 1, 80)).toBe(1);
      await backend.setValue('result:d', 'x', 5_000);
      await backend.deleteKeys(['result:d']);
      expect(await backend.getValue('result:d')).toBeUndefined();
    } finally {
      await closeBackend(backend);
    }
  });

  it('a published message reaches subscribers of another instance, and not after unsubscribe', async () => {
    const publisher = makeBackend();
    const subscriber = makeBackend();
    try {
      const received: string[] = [];
      const unsubscribe = await subscriber.subscribe('refresh:e', (message) => received.push(message));
      await publisher.publish('refresh:e', '{"outcome":"refreshed"}');
      for (let waited = 0; received.length === 0 && waited < 2_000; waited += 20) await sleep(20);
      expect(received).toEqual(['{"outcome":"refreshed"}']);
      await unsubscribe();
      await publisher.publish('refresh:e', 'late');
      await sleep(100);
      expect(received).toHaveLength(1);
    } finally {
      await Promise.all([closeBackend(publisher), closeBackend(subscriber)]);
    }
  });
}

describe('MemoryStateBackend', () => {
  // One shared instance stands for "one process": two handles on it see the same locks.
  const shared = new MemoryStateBackend();
  contract(
    () => shared,
    () => Promise.resolve(),
  );

  it('evicts the oldest entries beyond maxEntries (bounded under a key spray)', async () => {
    const backend = new MemoryStateBackend({ maxEntries: 3 });
    for (let index = 0; index < 10; index += 1) await backend.setValue(`ip:${index}`, 'x', 60_000);
    expect(await backend.getValue('ip:0')).toBeUndefined();
    expect(await backend.getValue('ip:9')).toBe('x');
  });
});

const hasRedis = redisServerAvailable();

describe.skipIf(!hasRedis)('RedisStateBackend (real redis-server)', () => {
  let server: RedisServerHandle | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  contract(() => new RedisStateBackend({ url: server!.url, namespace: 'test:' }));

  it('fails a command within its timeout when Redis is gone, instead of hanging', async () => {
    const backend = new RedisStateBackend({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200 });
    const started = Date.now();
    await expect(backend.tryLock('refresh:z', 1_000)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
    await backend.close();
  });
});
