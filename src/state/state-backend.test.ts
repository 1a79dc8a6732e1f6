import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpcStateBackend } from './ipc-client.js';
import type { MessageChannel } from './ipc-protocol.js';
import { serveStateOverIpc } from './ipc-server.js';
import { MemoryStateBackend } from './memory.js';
import { RedisStateBackend } from './redis.js';
import { banChannel, type StateBackend } from './types.js';
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

  it('a bucket admits its burst, refuses the next with the wait, and refills at its rate', async () => {
    const backend = makeBackend();
    const shape = { ratePerSecond: 20, burst: 3 };
    try {
      const decisions = [];
      for (let index = 0; index < 4; index += 1) decisions.push(await backend.takeTokens([{ key: 'ip:a', shape, cost: 1 }]));
      expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, false]);
      expect(decisions[2]).toMatchObject({ limit: 3, remaining: 0 });
      const refused = decisions[3]!;
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(50); // one token at 20 per second
      await sleep(120);
      expect((await backend.takeTokens([{ key: 'ip:a', shape, cost: 1 }])).allowed).toBe(true);
    } finally {
      await closeBackend(backend);
    }
  });

  it('a take over several buckets is all or nothing (a refused budget spends no request slot)', async () => {
    const backend = makeBackend();
    const requests = { ratePerSecond: 0.001, burst: 5 };
    const tokens = { ratePerSecond: 0.001, burst: 100 };
    try {
      const take = (cost: number) => backend.takeTokens([{ key: 'rpm:p', shape: requests, cost: 1 }, { key: 'tpm:p', shape: tokens, cost }]);
      expect((await take(80)).allowed).toBe(true);
      const refused = await take(30);
      expect(refused).toMatchObject({ allowed: false, limit: 100, remaining: 20 });
      // The refusal took nothing: four request slots are left, and 20 tokens.
      for (let index = 0; index < 4; index += 1) expect((await take(5)).allowed).toBe(true);
      expect((await take(0)).allowed).toBe(false);
    } finally {
      await closeBackend(backend);
    }
  });

  it('adjusting returns an over-estimate and charges usage beyond it as debt', async () => {
    const backend = makeBackend();
    const shape = { ratePerSecond: 0.001, burst: 100 };
    try {
      await backend.takeTokens([{ key: 'tpm:q', shape, cost: 90 }]);
      await backend.adjustTokens('tpm:q', shape, 60); // used 30 of the 90 reserved
      expect((await backend.takeTokens([{ key: 'tpm:q', shape, cost: 70 }])).allowed).toBe(true);
      await backend.adjustTokens('tpm:q', shape, -50); // used 50 more than estimated
      const refused = await backend.takeTokens([{ key: 'tpm:q', shape, cost: 1 }]);
      expect(refused).toMatchObject({ allowed: false, remaining: 0 });
      await backend.adjustTokens('tpm:q', shape, 1_000); // capped at the burst
      expect((await backend.takeTokens([{ key: 'tpm:q', shape, cost: 100 }])).allowed).toBe(true);
    } finally {
      await closeBackend(backend);
    }
  });

  it('a ban is listed until it expires and announced on the ban channel', async () => {
    const banner = makeBackend();
    const watcher = makeBackend();
    try {
      const announced: string[] = [];
      const unsubscribe = await watcher.subscribe(banChannel, (message) => announced.push(message));
      await banner.ban('203.0.113.9', 150);
      for (let waited = 0; announced.length === 0 && waited < 2_000; waited += 20) await sleep(20);
      expect(announced[0]).toMatch(/^203\.0\.113\.9 \d+$/);
      expect((await watcher.listBans()).map((ban) => ban.address)).toContain('203.0.113.9');
      await sleep(250);
      expect((await watcher.listBans()).map((ban) => ban.address)).not.toContain('203.0.113.9');
      await unsubscribe();
    } finally {
      await Promise.all([closeBackend(banner), closeBackend(watcher)]);
    }
  });

  it('an unban lifts the ban at once and announces "<address> 0"', async () => {
    const banner = makeBackend();
    const watcher = makeBackend();
    try {
      const announced: string[] = [];
      const unsubscribe = await watcher.subscribe(banChannel, (message) => announced.push(message));
      await banner.ban('203.0.113.10', 60_000);
      expect(await banner.unban('203.0.113.10')).toBe(true);
      expect((await watcher.listBans()).map((ban) => ban.address)).not.toContain('203.0.113.10');
      for (let waited = 0; announced.length < 2 && waited < 2_000; waited += 20) await sleep(20);
      expect(announced).toContain('203.0.113.10 0');
      expect(await banner.unban('203.0.113.10'), 'nothing left to lift').toBe(false);
      await unsubscribe();
    } finally {
      await Promise.all([closeBackend(banner), closeBackend(watcher)]);
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

  it('keeps a bucket in use when a spray of new keys passes the bound: the least recently updated go', async () => {
    let now = 1_000_000;
    const backend = new MemoryStateBackend({ maxEntries: 3, now: () => now });
    const shape = { ratePerSecond: 1 / 60, burst: 100 };
    const take = (key: string) => backend.takeTokens([{ key, shape, cost: 1 }]);
    // The victim's bucket is the first one created, and it is used between every two spray keys:
    // it is updated in place (not re-inserted), so only its update time says it is in use.
    let last = await take('victim');
    for (let index = 0; index < 10; index += 1) {
      now += 10;
      await take(`spray:${index}`);
      now += 10;
      last = await take('victim');
    }
    // Evicted even once, it would have started again from a full bucket (99 left).
    expect(last.remaining).toBe(89);
    // The spray's older buckets went: the first one starts full again.
    expect((await take('spray:0')).remaining).toBe(99);
  });

  it('answers bucket takes synchronously through syncBuckets, the same state as the promise API', async () => {
    const backend = new MemoryStateBackend();
    const shape = { ratePerSecond: 1, burst: 3 };
    const decision = backend.syncBuckets.takeTokens([{ key: 'k', shape, cost: 2 }]);
    expect(decision).toMatchObject({ allowed: true, remaining: 1 });
    expect(await backend.takeTokens([{ key: 'k', shape, cost: 2 }])).toMatchObject({ allowed: false });
    backend.syncBuckets.adjustTokens('k', shape, 2);
    expect(backend.syncBuckets.takeTokens([{ key: 'k', shape, cost: 3 }])).toMatchObject({ allowed: true, remaining: 0 });
  });
});

/**
 * Two ends of an in-memory message channel, each message structured-cloned and delivered on a later
 * turn like the cluster's IPC (`serialization: 'advanced'`).
 */
function channelPair(): { worker: MessageChannel; primary: MessageChannel } {
  const listeners = { worker: new Set<(message: unknown) => void>(), primary: new Set<(message: unknown) => void>() };
  const end = (own: Set<(message: unknown) => void>, other: Set<(message: unknown) => void>): MessageChannel => ({
    send(message) {
      const copy = structuredClone(message);
      setImmediate(() => other.forEach((listener) => listener(copy)));
    },
    onMessage(listener) {
      own.add(listener);
      return () => void own.delete(listener);
    },
  });
  return { worker: end(listeners.worker, listeners.primary), primary: end(listeners.primary, listeners.worker) };
}

describe('IpcStateBackend (workers of serve --workers asking the primary\'s memory store)', () => {
  // One store in "the primary"; each backend made by the contract is another worker's client.
  const primaryStore = new MemoryStateBackend();
  const servers: { close(): Promise<void> }[] = [];
  contract(() => {
    const { worker, primary } = channelPair();
    servers.push(serveStateOverIpc(primaryStore, primary));
    return new IpcStateBackend({ channel: worker });
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('runs only the backend\'s state methods: close or any other property named by a worker is refused', async () => {
    const store = new MemoryStateBackend();
    const { worker, primary } = channelPair();
    const server = serveStateOverIpc(store, primary);
    const answers: unknown[] = [];
    worker.onMessage((message) => answers.push(message));
    worker.send({ scope: 'state', type: 'call', id: 7, method: 'close', args: [] });
    worker.send({ scope: 'state', type: 'call', id: 8, method: 'constructor', args: [] });
    for (let waited = 0; answers.length < 2 && waited < 2_000; waited += 20) await sleep(20);
    expect(answers).toEqual([
      { scope: 'state', type: 'result', id: 7, ok: false, message: 'unknown state method close' },
      { scope: 'state', type: 'result', id: 8, ok: false, message: 'unknown state method constructor' },
    ]);
    await store.setValue('still', 'open', 5_000); // the store was not closed
    expect(await store.getValue('still')).toBe('open');
    await server.close();
  });

  it('a call the primary never answers fails after its timeout instead of hanging', async () => {
    const silent: MessageChannel = { send: () => undefined, onMessage: () => () => undefined };
    const backend = new IpcStateBackend({ channel: silent, callTimeoutMs: 100 });
    await expect(backend.takeTokens([{ key: 'ip:x', shape: { ratePerSecond: 1, burst: 1 }, cost: 1 }])).rejects.toThrow(/did not answer a state call within 100 ms/);
    await backend.close();
    await expect(backend.getValue('x')).rejects.toThrow(/closed/);
  });

  it('a worker that exits loses its subscriptions on the primary', async () => {
    const store = new MemoryStateBackend();
    const { worker, primary } = channelPair();
    const server = serveStateOverIpc(store, primary);
    const received: string[] = [];
    await new IpcStateBackend({ channel: worker }).subscribe('c', (message) => received.push(message));
    await server.close(); // what the primary does on the worker's exit
    await store.publish('c', 'after exit');
    await sleep(50);
    expect(received).toEqual([]);
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
