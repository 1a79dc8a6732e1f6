import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { LockLease, StateBackend, StateMessageListener } from './types.js';

export interface RedisStateOptions {
  /** `redis://` or `rediss://` URL (config `state.url`). May hold a password: never logged. */
  url: string;
  /** Prefix of every key and channel, so several gateways can share one Redis. */
  namespace?: string;
  /**
   * Milliseconds a command may wait (including while reconnecting) before it fails. A Redis outage
   * then surfaces as an error the caller's deadline handles, not as a request hanging forever.
   */
  commandTimeoutMs?: number;
}

/** Deletes the lock only while the caller still owns it (compare-and-delete must be atomic). */
const unlockScript = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** INCRBY, and start the window on the first increment only (PEXPIRE NX needs Redis 7; this runs on 6). */
const incrementScript = `local total = redis.call('incrby', KEYS[1], ARGV[1])
if redis.call('pttl', KEYS[1]) < 0 then redis.call('pexpire', KEYS[1], ARGV[2]) end
return total`;

/**
 * State shared by every replica through one Redis. Two connections: one for commands, one (opened
 * on the first subscribe) for pub/sub, because a subscribed Redis connection accepts no other
 * commands. Locks follow the single-instance Redis recipe (SET NX PX + owner token + scripted
 * release); Redlock over several masters is not needed for "at most one refresh at a time", since
 * the upstream token endpoint stays the judge and a lost lock costs at most one extra refresh.
 */
export class RedisStateBackend implements StateBackend {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<StateMessageListener>>();
  private readonly namespace: string;

  constructor(options: RedisStateOptions) {
    this.namespace = options.namespace ?? 'cliproxyapi:';
    this.client = new Redis(options.url, {
      lazyConnect: false,
      commandTimeout: options.commandTimeoutMs ?? 5_000,
      maxRetriesPerRequest: 2,
      // The default error handler prints to stderr with the URL; errors reach callers through their commands instead.
      showFriendlyErrorStack: false,
    });
    this.client.on('error', () => undefined);
  }

  private key(kind: string, name: string): string {
    return `${this.namespace}${kind}:${name}`;
  }

  /** Resolves once the command connection is ready; rejects (without the URL) when it cannot connect. */
  async ready(): Promise<void> {
    await this.client.ping();
  }

  async tryLock(name: string, ttlMs: number): Promise<LockLease | undefined> {
    const owner = randomBytes(16).toString('hex');
    const result = await this.client.set(this.key('lock', name), owner, 'PX', ttlMs, 'NX');
    return result === 'OK' ? { name, owner, ttlMs } : undefined;
  }

  async unlock(lease: LockLease): Promise<boolean> {
    const deleted = await this.client.eval(unlockScript, 1, this.key('lock', lease.name), lease.owner);
    return deleted === 1;
  }

  async isLocked(name: string): Promise<boolean> {
    return (await this.client.exists(this.key('lock', name))) === 1;
  }

  async setValue(key: string, value: string, ttlMs: number): Promise<void> {
    await this.client.set(this.key('value', key), value, 'PX', ttlMs);
  }

  async getValue(key: string): Promise<string | undefined> {
    return (await this.client.get(this.key('value', key))) ?? undefined;
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.client.del(...keys.flatMap((key) => [this.key('value', key), this.key('counter', key)]));
  }

  async increment(key: string, amount: number, windowMs: number): Promise<number> {
    const total = await this.client.eval(incrementScript, 1, this.key('counter', key), String(amount), String(windowMs));
    return Number(total);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.key('channel', channel), message);
  }

  async subscribe(channel: string, listener: StateMessageListener): Promise<() => Promise<void>> {
    const subscriber = this.subscriberConnection();
    const fullChannel = this.key('channel', channel);
    let set = this.listeners.get(fullChannel);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(fullChannel, set);
      await subscriber.subscribe(fullChannel);
    }
    set.add(listener);
    return async () => {
      const current = this.listeners.get(fullChannel);
      if (current === undefined || !current.delete(listener) || current.size > 0) return;
      this.listeners.delete(fullChannel);
      await subscriber.unsubscribe(fullChannel);
    };
  }

  private subscriberConnection(): Redis {
    if (this.subscriber !== undefined) return this.subscriber;
    const subscriber = this.client.duplicate();
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(message);
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    const connections = [this.client, ...(this.subscriber === undefined ? [] : [this.subscriber])];
    await Promise.all(connections.map(async (connection) => {
      try {
        await connection.quit();
      } catch {
        connection.disconnect();
      }
    }));
  }
}
