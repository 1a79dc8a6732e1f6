/**
 * In-flight request slots per client key (`max_concurrency`), in this process. A request over the
 * cap waits in a first-come queue for a slot up to its wait time, then gives up; a released slot
 * goes straight to the first waiter, so a stream of new arrivals cannot starve one that waits.
 *
 * Per process on purpose: a slot is held for the length of a request, and a shared counter would
 * leak slots for ever when a replica dies holding them (Redis keys would need a lease per request
 * and a refresh while streaming). With N replicas (or `serve --workers N`) a key may have N × cap
 * requests in flight; docs/keys.md says so. Memory: one entry per key with requests in flight.
 */
interface KeySlots {
  active: number;
  readonly waiters: Waiter[];
}

interface Waiter {
  readonly grant: (granted: boolean) => void;
  timer: NodeJS.Timeout | undefined;
}

export class ConcurrencyGate {
  private readonly slots = new Map<string, KeySlots>();

  /** Resolves true with a slot, false when none freed within `waitMs` (0: answer at once). */
  acquire(keyId: string, cap: number, waitMs: number): Promise<boolean> | boolean {
    let slots = this.slots.get(keyId);
    if (slots === undefined) {
      slots = { active: 0, waiters: [] };
      this.slots.set(keyId, slots);
    }
    if (slots.active < cap && slots.waiters.length === 0) {
      slots.active += 1;
      return true;
    }
    if (waitMs <= 0) return false;
    const queue = slots.waiters;
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { grant: resolve, timer: undefined };
      waiter.timer = setTimeout(() => {
        queue.splice(queue.indexOf(waiter), 1);
        resolve(false);
      }, waitMs);
      queue.push(waiter);
    });
  }

  /** Frees a slot: handed to the first waiter, or counted down (the entry dropped when idle). */
  release(keyId: string): void {
    const slots = this.slots.get(keyId);
    if (slots === undefined) return;
    const next = slots.waiters.shift();
    if (next !== undefined) {
      clearTimeout(next.timer);
      next.grant(true); // the slot passes on: active stays the same
      return;
    }
    slots.active -= 1;
    if (slots.active <= 0) this.slots.delete(keyId);
  }

  /** Requests of `keyId` in flight now (tests, `keys list`). */
  inFlight(keyId: string): number {
    return this.slots.get(keyId)?.active ?? 0;
  }
}
