import type { BucketDecision, BucketShape } from './bucket-math.js';
import { isStateMessage, type IpcStateMethod, type MessageChannel, type PrimaryToWorkerStateMessage } from './ipc-protocol.js';
import type { BucketTake, IpBan, LockLease, StateBackend, StateMessageListener } from './types.js';

export interface IpcStateOptions {
  /** The worker's channel to the primary (`process` in a cluster worker). */
  channel: MessageChannel;
  /**
   * Milliseconds a call waits for the primary's answer before it fails (default 5 s, like Redis's
   * command timeout). The limiters put their own shorter deadline in front (limits/state-guard.ts);
   * this one keeps an OAuth refresh lock from waiting forever on a primary that stopped answering.
   */
  callTimeoutMs?: number;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The state backend of a `serve --workers N` worker with `state.backend: memory`: every call goes
 * to the primary process, which holds the one MemoryStateBackend of the machine (ipc-server.ts).
 * So the per-IP buckets, provider budgets and reservations, bans, OAuth refresh locks and
 * credential cooldowns are one store for all workers, exact as in a single process: the primary
 * runs each call to completion before the next (the memory backend is synchronous inside), which
 * is the atomicity Redis's scripts give across replicas.
 *
 * With `state.backend: redis` workers talk to Redis directly and this class is not used.
 */
export class IpcStateBackend implements StateBackend {
  readonly kind = 'ipc' as const;
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly listeners = new Map<number, StateMessageListener>();
  private readonly callTimeoutMs: number;
  private readonly stopListening: () => void;
  private closed = false;

  constructor(private readonly options: IpcStateOptions) {
    this.callTimeoutMs = options.callTimeoutMs ?? 5_000;
    this.stopListening = options.channel.onMessage((message) => {
      if (isStateMessage(message)) this.receive(message as PrimaryToWorkerStateMessage);
    });
  }

  private receive(message: PrimaryToWorkerStateMessage): void {
    if (message.type === 'message') {
      this.listeners.get(message.subscription)?.(message.message);
      return;
    }
    const call = this.pending.get(message.id);
    if (call === undefined) return; // answered after its timeout: already failed
    this.pending.delete(message.id);
    clearTimeout(call.timer);
    if (message.ok) call.resolve(message.value);
    else call.reject(new Error(`state backend (primary process): ${message.message}`));
  }

  /** Sends one request and waits for the answer with the same id. */
  private request<T>(body: { type: 'call'; method: IpcStateMethod; args: unknown[] } | { type: 'subscribe'; channel: string } | { type: 'unsubscribe'; subscription: number }): Promise<T> {
    if (this.closed) return Promise.reject(new Error('state backend is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the primary process did not answer a state call within ${this.callTimeoutMs} ms`));
      }, this.callTimeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.options.channel.send({ scope: 'state', id, ...body });
      } catch (error) {
        // The channel is gone (the primary exited): fail now rather than at the timeout.
        this.pending.delete(id);
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  private call<T>(method: IpcStateMethod, ...args: unknown[]): Promise<T> {
    return this.request<T>({ type: 'call', method, args });
  }

  tryLock(name: string, ttlMs: number): Promise<LockLease | undefined> {
    // undefined does not survive JSON: the primary answers null for "held by another owner".
    return this.call<LockLease | null>('tryLock', name, ttlMs).then((lease) => lease ?? undefined);
  }

  unlock(lease: LockLease): Promise<boolean> {
    return this.call('unlock', lease);
  }

  isLocked(name: string): Promise<boolean> {
    return this.call('isLocked', name);
  }

  async setValue(key: string, value: string, ttlMs: number): Promise<void> {
    await this.call('setValue', key, value, ttlMs);
  }

  getValue(key: string): Promise<string | undefined> {
    return this.call<string | null>('getValue', key).then((value) => value ?? undefined);
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    await this.call('deleteKeys', keys);
  }

  increment(key: string, amount: number, windowMs: number): Promise<number> {
    return this.call('increment', key, amount, windowMs);
  }

  takeTokens(takes: readonly BucketTake[]): Promise<BucketDecision> {
    return this.call('takeTokens', takes);
  }

  async adjustTokens(key: string, shape: BucketShape, delta: number): Promise<void> {
    await this.call('adjustTokens', key, shape, delta);
  }

  async ban(address: string, ttlMs: number): Promise<void> {
    await this.call('ban', address, ttlMs);
  }

  unban(address: string): Promise<boolean> {
    return this.call('unban', address);
  }

  listBans(): Promise<IpBan[]> {
    return this.call('listBans');
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.call('publish', channel, message);
  }

  async subscribe(channel: string, listener: StateMessageListener): Promise<() => Promise<void>> {
    const subscription = await this.request<number>({ type: 'subscribe', channel });
    this.listeners.set(subscription, listener);
    return async () => {
      if (!this.listeners.delete(subscription)) return;
      await this.request({ type: 'unsubscribe', subscription });
    };
  }

  /** Fails the calls still waiting and stops listening; the primary drops this worker's subscriptions when it exits. */
  close(): Promise<void> {
    this.closed = true;
    this.stopListening();
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(new Error('state backend is closed'));
      this.pending.delete(id);
    }
    this.listeners.clear();
    return Promise.resolve();
  }
}
