import type { StateBackend } from '../state/types.js';

/** Channel on which a replica announces `<credential id> <epoch ms until>`. */
export const cooldownChannel = 'credential-cooldowns';

/** What a pool offers to receive a cooldown (routing/credential-pool.ts `applyCooldown`). */
export interface CooldownTarget {
  applyCooldown(credentialId: string, coolingUntil: number): boolean;
}

/**
 * Credential cooldowns shared across replicas through the state backend's pub/sub: the replica
 * whose request met the upstream's 429 benches the key and announces it; every other replica
 * benches it too (their pools otherwise keep sending to a key the upstream is refusing).
 * At-most-once delivery is enough: a missed announcement costs one more upstream 429, after which
 * that replica benches the key itself. With the memory backend there is one process: nothing to share.
 */
export class SharedCooldowns {
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly state: StateBackend,
    /** The pools of the current runtime (a reload swaps them). */
    private readonly pools: () => Iterable<CooldownTarget>,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.state.subscribe(cooldownChannel, (message) => {
      const space = message.lastIndexOf(' ');
      const until = Number(message.slice(space + 1));
      if (space <= 0 || !Number.isFinite(until)) return;
      const id = message.slice(0, space);
      for (const pool of this.pools()) if (pool.applyCooldown(id, until)) return;
    });
  }

  /** The pool's `onCooldown`: announces without waiting; a failed publish is reported, never thrown. */
  readonly announce = (credentialId: string, coolingUntil: number): void => {
    this.state.publish(cooldownChannel, `${credentialId} ${coolingUntil}`).catch(this.onError);
  };

  /**
   * Ends the subscription without waiting for it: the state backend is closed right after (main.ts
   * shutdown order) and drops it anyway, and with Redis down an awaited unsubscribe would hold the
   * shutdown through the client's reconnect attempts and then fail it.
   */
  close(): Promise<void> {
    this.unsubscribe?.().catch(() => undefined);
    this.unsubscribe = undefined;
    return Promise.resolve();
  }
}
