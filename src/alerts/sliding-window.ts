/**
 * A count of events over the last `windowMs`, kept in 30 slices: a new event costs a few array
 * writes and no allocation, and memory is 30 integers whatever the rate. The count covers the
 * current slice and the 29 before it, so it may leave out events up to one slice (1/30 of the
 * window) older than the window: a rule can fire at most that much later than an exact window
 * would, never earlier.
 */
export const windowSlices = 30;

export class SlicedWindow {
  private readonly counts = new Uint32Array(windowSlices);
  private readonly sliceMs: number;
  /** Absolute index (time / sliceMs) of the newest slice written; -1 before the first event. */
  private newestSlice = -1;
  private total = 0;

  constructor(windowMs: number) {
    this.sliceMs = Math.max(1, Math.ceil(windowMs / windowSlices));
  }

  /** Adds one event at `now` (epoch ms) and returns the count in the window, this event included. */
  add(now: number): number {
    const slice = Math.floor(now / this.sliceMs);
    if (slice > this.newestSlice) this.advanceTo(slice);
    // A clock that stepped back (or an event stamped late) counts in the newest slice.
    this.counts[this.newestSlice % windowSlices]! += 1;
    this.total += 1;
    return this.total;
  }

  /** Forgets every event (after the rule fired: the next firing needs a full count again). */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  private advanceTo(slice: number): void {
    if (this.newestSlice < 0 || slice - this.newestSlice >= windowSlices) {
      this.reset();
    } else {
      for (let expired = this.newestSlice + 1; expired <= slice; expired += 1) {
        const index = expired % windowSlices;
        this.total -= this.counts[index]!;
        this.counts[index] = 0;
      }
    }
    this.newestSlice = slice;
  }
}
