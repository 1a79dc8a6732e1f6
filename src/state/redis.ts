import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { msUntil, type BucketDecision, type BucketShape } from './bucket-math.js';
import { adjustTokensScript, incrementScript, takeTokensScript, unlockScript } from './redis-scripts.js';
import { banChannel, type BucketTake, type IpBan, type LockLease, type StateBackend, type StateMessageListener } from './types.js';

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

const scriptShas = new Map<string, string>();

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

  /**
   * Runs a script by its SHA-1 (EVALSHA: the text crosses the network once, not on every request),
   * loading it on NOSCRIPT (first use, or a Redis restarted since).
   */
  private async script(text: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    let sha = scriptShas.get(text);
    if (sha === undefined) {
      sha = createHash('sha1').update(text).digest('hex');
      scriptShas.set(text, sha);
    }
    try {
      return await this.client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return await this.client.eval(text, keys.length, ...keys, ...args);
    }
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
    const deleted = await this.script(unlockScript, [this.key('lock', lease.name)], [lease.owner]);
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
    const total = await this.script(incrementScript, [this.key('counter', key)], [String(amount), String(windowMs)]);
    return Number(total);
  }

  async takeTokens(takes: readonly BucketTake[]): Promise<BucketDecision> {
    const keys = takes.map((take) => this.key('bucket', take.key));
    const shapes = takes.flatMap((take) => [String(take.shape.ratePerSecond), String(take.shape.burst), String(take.cost)]);
    const reply = (await this.script(takeTokensScript, keys, shapes)) as string[] | number[];
    const refused = Number(reply[0]);
    const decide = (index: number, allowed: boolean): BucketDecision => {
      const { shape, cost } = takes[index]!;
      const tokens = Number(reply[index + 1]);
      const needed = Math.min(cost, shape.burst);
      return {
        allowed,
        limit: shape.burst,
        remaining: Math.max(0, Math.floor(tokens)),
        retryAfterMs: allowed ? 0 : msUntil(tokens, needed, shape),
        resetMs: msUntil(tokens, shape.burst, shape),
      };
    };
    if (refused > 0) return decide(refused - 1, false);
    let chosen = decide(0, true);
    for (let index = 1; index < takes.length; index += 1) {
      const decision = decide(index, true);
      if (decision.remaining / decision.limit < chosen.remaining / chosen.limit) chosen = decision;
    }
    return chosen;
  }

  async adjustTokens(key: string, shape: BucketShape, delta: number): Promise<void> {
    await this.script(adjustTokensScript, [this.key('bucket', key)], [String(shape.ratePerSecond), String(shape.burst), String(delta)]);
  }

  async ban(address: string, ttlMs: number): Promise<void> {
    // The end time is this replica's clock; replicas' clocks agree closely enough for bans of minutes.
    const until = Date.now() + ttlMs;
    await this.client.set(this.key('ban', address), String(until), 'PX', ttlMs);
    await this.publish(banChannel, `${address} ${until}`);
  }

  async unban(address: string): Promise<boolean> {
    const removed = await this.client.del(this.key('ban', address));
    await this.publish(banChannel, `${address} 0`);
    return removed > 0;
  }

  async listBans(): Promise<IpBan[]> {
    const bans: IpBan[] = [];
    const prefix = this.key('ban', '');
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.client.mget(...keys);
      keys.forEach((key, index) => {
        const until = Number(values[index]);
        if (Number.isFinite(until)) bans.push({ address: key.slice(prefix.length), until });
      });
    } while (cursor !== '0');
    return bans;
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
