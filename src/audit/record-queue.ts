/**
 * The audit writer's queue: records waiting for the next flush, kept as UTF-8 bytes in large
 * off-heap chunks rather than as JavaScript strings.
 *
 * Why: a record waits up to `flush_interval_ms` (100 ms) for its flush. Kept as a string (a rope of
 * the ~25 pieces it was built from), every queued record survived one or two young-generation
 * collections, was copied each time and then promoted to the old generation: at a few thousand
 * requests a second that retention, not the hashing, was most of the audit log's cost per request
 * (the profile of the all-layers pass-through showed the collector's time tripling with the audit
 * log on). Encoded once into a chunk, a record leaves nothing on the JavaScript heap but its end
 * offset (a small integer in an array), and the string it came from dies young.
 */

/** One chunk of queued records: `bytes[0, ends.at(-1))` holds them back to back. */
export interface QueuedChunk {
  readonly bytes: Buffer;
  /** Where each record ends in `bytes` (the first starts at 0, each next one at the previous end). */
  readonly ends: number[];
}

/** Bytes per chunk: a few hundred records of a provider request (~500 bytes each). */
const chunkBytes = 256 * 1024;
/**
 * Written chunks kept for reuse. Every new chunk is a fresh off-heap allocation, and V8 answers a
 * steady stream of those with full (mark-compact) collections: at ~16,000 requests a second the
 * audit log's new chunks and flush buffers alone tripled the process's mark-compacts, 8–11 ms pauses
 * each, most of the pass-through's p99 (docs/benchmarks.md). A few spares cover a flush's worth.
 */
const maxSpareChunks = 4;
/** The most bytes one UTF-16 code unit takes in UTF-8: room checked without measuring the string first. */
const maximumBytesPerCodeUnit = 3;

export class AuditRecordQueue {
  private chunks: QueuedChunk[] = [];
  private used = 0;
  private queued = 0;
  private readonly spare: Buffer[] = [];

  /** Records queued. */
  get length(): number {
    return this.queued;
  }

  /** Appends one record's fields (already redacted and serialised). */
  push(fields: string): void {
    const worstCase = fields.length * maximumBytesPerCodeUnit;
    let chunk = this.chunks.at(-1);
    if (chunk === undefined || chunk.bytes.length - this.used < worstCase) {
      // allocUnsafeSlow: a chunk of its own, outside Buffer's shared 8 KiB pool (which a long-lived
      // slice would pin); its contents are written before they are read.
      const reused = worstCase <= chunkBytes ? this.spare.pop() : undefined;
      chunk = { bytes: reused ?? Buffer.allocUnsafeSlow(Math.max(chunkBytes, worstCase)), ends: [] };
      this.chunks.push(chunk);
      this.used = 0;
    }
    this.used += chunk.bytes.write(fields, this.used, 'utf8');
    chunk.ends.push(this.used);
    this.queued += 1;
  }

  /** Everything queued, oldest first; the queue is empty afterwards. */
  take(): QueuedChunk[] {
    const taken = this.chunks;
    this.chunks = [];
    this.used = 0;
    this.queued = 0;
    return taken;
  }

  /**
   * Hands back chunks taken earlier whose records are written (never ones that may still be
   * restored): their memory serves the next records. Only `bytes[0, ends.at(-1))` of a reused chunk
   * is ever read, and a new record overwrites from its start, so nothing of an old record leaks.
   */
  recycle(written: readonly QueuedChunk[]): void {
    for (const chunk of written) {
      if (this.spare.length >= maxSpareChunks) return;
      if (chunk.bytes.length === chunkBytes) this.spare.push(chunk.bytes);
    }
  }

  /**
   * Puts records taken earlier back in front of what was queued since (a flush that failed),
   * keeping at most `limit` records in all; returns how many of the newest had to be dropped.
   */
  restore(taken: readonly QueuedChunk[], limit: number): number {
    const merged = [...taken, ...this.chunks];
    let total = merged.reduce((sum, chunk) => sum + chunk.ends.length, 0);
    let dropped = 0;
    while (total > limit) {
      const last = merged.at(-1);
      if (last === undefined) break;
      const excess = Math.min(total - limit, last.ends.length);
      last.ends.length -= excess;
      total -= excess;
      dropped += excess;
      if (last.ends.length === 0) merged.pop();
    }
    this.chunks = merged;
    // New records go into a fresh chunk: the last one may be a taken chunk, whose end is not `used`.
    this.used = Number.POSITIVE_INFINITY;
    this.queued = total;
    return dropped;
  }
}

/** Calls `each` with every record's place (its chunk's bytes, start, end), oldest first: no view is made per record. */
export function forEachQueuedRecord(chunks: readonly QueuedChunk[], each: (bytes: Buffer, start: number, end: number) => void): void {
  for (const chunk of chunks) {
    let start = 0;
    for (const end of chunk.ends) {
      each(chunk.bytes, start, end);
      start = end;
    }
  }
}

/** How many records and bytes the chunks hold. */
export function sizeOfQueued(chunks: readonly QueuedChunk[]): { records: number; bytes: number } {
  let records = 0;
  let bytes = 0;
  for (const chunk of chunks) {
    records += chunk.ends.length;
    bytes += chunk.ends.at(-1) ?? 0;
  }
  return { records, bytes };
}
