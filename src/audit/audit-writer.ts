import type { FileHandle } from 'node:fs/promises';
import { lstat, rename } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { withFileLock } from '../files/file-lock.js';
import { ensurePrivateDirectory, fsyncDirectory } from '../files/private-file.js';
import { chainedLineOverheadBytes, hashFunctionFor, serializeEventFields, writeChainedLine, type AuditEvent, type ChainPosition } from './audit-record.js';
import { AuditRecordQueue, forEachQueuedRecord, sizeOfQueued, type QueuedChunk } from './record-queue.js';
import { checkAuditDirectory, lastRecordOf, openAuditFileForAppend, readTail, rotatedFileName, rotatedFilesOf } from './audit-files.js';

/**
 * Appends records to one chained JSONL file, shared safely with other processes (a CLI command run
 * while the server serves).
 *
 * How records reach the disk: `enqueue` only copies the record's serialised fields into the queue's
 * off-heap chunks (record-queue.ts: no I/O, no hashing, nothing kept on the JavaScript heap on the
 * caller's path). A flush runs `flushIntervalMs` after the first queued
 * record (or at once when `flushAtRecords` are queued), and at close. A flush takes the file's
 * lock (files/file-lock.ts), opens the file by name, reads where the chain stands (its last
 * record, unless the file is exactly as this writer left it), numbers and hashes the batch from
 * there, appends it in one write, fsyncs, closes and unlocks. Because the chain position is
 * re-read under the lock, any number of processes append to one chain without forking it.
 *
 * What a crash loses: a process killed (SIGKILL, OOM) loses the records still queued, at most
 * `flushIntervalMs` of events (plus any earlier ones a failing disk kept queued); an appended batch
 * survives a process crash (the page cache has it) and a power loss once its fsync returned.
 * A write cut short leaves a partial last line; the next writer starts a new line after it and
 * records `audit-torn-record`, which `audit verify` accepts in place of the cut line.
 */
export interface AuditWriterOptions {
  /** The live file (`audit.file`). */
  file: string;
  /** HMAC key (audit.key_file), or undefined for plain SHA-256. */
  key: Buffer | undefined;
  /** Rotate before a batch would take the live file past this size. */
  maxFileBytes: number;
  /** Milliseconds between the first queued record and its flush. */
  flushIntervalMs: number;
  /** Flush without waiting once this many records are queued (default 1,000). */
  flushAtRecords?: number;
  /** Records kept while the file cannot be written (default 100,000); beyond, counted and dropped. */
  maxQueuedRecords?: number;
  /** A flush failed (the records stay queued and are retried): for the server's log. */
  onError: (error: Error) => void;
  /** Every written batch's lines, e.g. to stdout (`audit.stdout`). */
  copy?: (lines: string) => void;
  /** Longest wait for the file lock, milliseconds (default 10 s). */
  lockTimeoutMs?: number;
  now?: () => number;
}

/** Where this writer left the file: if the file is still exactly that, its last record need not be re-read. */
interface LeftAt {
  dev: number;
  ino: number;
  size: number;
  last: ChainPosition;
}

const retryAfterFailureMs = 1_000;

/**
 * A batch's lines are built in one buffer kept between flushes, for the reason record-queue.ts
 * keeps spare chunks (a fresh off-heap buffer per flush costs full collections). A batch larger
 * than this (a backlog after a failing disk) gets a buffer of its own, not kept.
 */
const maxKeptBatchBufferBytes = 4 * 1024 * 1024;

export class AuditFileWriter {
  private readonly queue = new AuditRecordQueue();
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private leftAt: LeftAt | undefined;
  private batchBuffer: Buffer | undefined;
  private readonly hasher: ReturnType<typeof hashFunctionFor>;
  private readonly now: () => number;

  constructor(private readonly options: AuditWriterOptions) {
    this.hasher = hashFunctionFor(options.key);
    this.now = options.now ?? Date.now;
  }

  /** The file, its directory and the lock are usable: called once at start, so an unsafe file stops the start. */
  async check(): Promise<void> {
    const directory = dirname(this.options.file);
    await checkAuditDirectory(directory);
    await ensurePrivateDirectory(directory);
    await withFileLock(this.options.file, async () => {
      const { handle } = await openAuditFileForAppend(this.options.file);
      await handle.close();
    }, { timeoutMs: this.options.lockTimeoutMs ?? 10_000 });
  }

  /** Queues one record (already redacted and serialised by serializeEventFields). */
  enqueue(fields: string): void {
    if (this.queue.length >= (this.options.maxQueuedRecords ?? 100_000)) {
      this.dropped += 1;
      return;
    }
    this.queue.push(fields);
    if (this.queue.length >= (this.options.flushAtRecords ?? 1_000)) this.schedule(0);
    else this.schedule(this.options.flushIntervalMs);
  }

  private schedule(delayMs: number): void {
    if (this.flushing !== undefined) return; // the running flush schedules the next one
    if (this.timer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((error: unknown) => {
        this.options.onError(error as Error);
        this.schedule(Math.max(this.options.flushIntervalMs, retryAfterFailureMs));
      });
    }, delayMs);
    // A pending flush must not keep a CLI process alive; close() flushes what is left.
    this.timer.unref();
  }

  /** Writes everything queued now; rejects when the file cannot be written (the records stay queued). */
  flush(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing.catch(() => undefined).then(() => this.flush());
    if (this.queue.length === 0 && this.dropped === 0) return Promise.resolve();
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.queue.take();
    const dropped = this.dropped;
    this.dropped = 0;
    const run = withFileLock(this.options.file, () => this.append(batch, dropped), { timeoutMs: this.options.lockTimeoutMs ?? 10_000 })
      .then(() => this.queue.recycle(batch))
      .catch((error: unknown) => {
        // Put the batch back in front of what arrived meanwhile, within the bound.
        this.dropped += dropped + this.queue.restore(batch, this.options.maxQueuedRecords ?? 100_000);
        throw error;
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.queue.length > 0) this.schedule(this.options.flushIntervalMs);
      });
    this.flushing = run;
    return run;
  }

  /** Flushes what is queued and waits for it (shutdown, the end of a CLI command). */
  async close(): Promise<void> {
    await this.flush();
  }

  /** Under the lock: find the chain's position, rotate if due, append the batch. */
  private async append(batch: readonly QueuedChunk[], dropped: number): Promise<void> {
    const file = this.options.file;
    let { handle, stats } = await openAuditFileForAppend(file);
    try {
      const unchanged = this.leftAt !== undefined && this.leftAt.dev === stats.dev && this.leftAt.ino === stats.ino && this.leftAt.size === stats.size;
      const tail = unchanged ? { last: this.leftAt?.last, tornBytes: 0 } : await readTail(handle, stats.size);
      const preamble = new AuditRecordQueue();
      let last = tail.last;
      let prefix = '';
      const queued = sizeOfQueued(batch);
      const estimatedBytes = queued.bytes + queued.records * 160;
      if (stats.size > 0 && stats.size + estimatedBytes > this.options.maxFileBytes && last !== undefined) {
        const rotated = rotatedFileName(file, last.seq);
        // Never over an existing file (names carry the last seq, so only a hand-made file could be
        // there); checked under the lock, so no writer of ours races it. rename, not link+unlink:
        // the container's seccomp profile allows no link(2).
        if (await lstat(rotated).then(() => true, () => false)) throw new Error(`cannot rotate ${file}: ${rotated} exists`);
        await rename(file, rotated);
        await fsyncDirectory(dirname(file));
        await handle.close();
        ({ handle, stats } = await openAuditFileForAppend(file));
        preamble.push(this.internal('audit-file-start', 'success', { previous_file: basename(rotated) }));
      } else if (stats.size === 0) {
        const rotated = (await rotatedFilesOf(file)).at(-1);
        const predecessor = rotated === undefined ? undefined : await lastRecordOf(rotated);
        last = predecessor;
        preamble.push(this.internal('audit-file-start', 'success', { previous_file: rotated === undefined ? null : basename(rotated) }));
        if (this.leftAt !== undefined && (predecessor === undefined || predecessor.seq < this.leftAt.last.seq)) {
          // This process wrote past what the files now hold: the live file was removed or replaced.
          // Chain on from what was written, so `audit verify` shows the records that went missing.
          last = this.leftAt.last;
          preamble.push(this.internal('audit-file-missing', 'failure', `the live file was removed or replaced: records up to seq ${this.leftAt.last.seq} are not in it`));
        }
      } else if (tail.tornBytes > 0) {
        prefix = '\n';
        preamble.push(this.internal('audit-torn-record', 'failure', { torn_bytes: tail.tornBytes }));
      }
      if (dropped > 0) preamble.push(this.internal('audit-records-dropped', 'failure', { dropped }));

      let seq = last?.seq ?? 0;
      let prev = last?.hash ?? null;
      let position: ChainPosition | undefined = last;
      const records = preamble.take().concat(batch);
      const size = sizeOfQueued(records);
      const out = this.bufferFor(prefix.length + size.bytes + size.records * chainedLineOverheadBytes);
      let length = out.write(prefix, 0, 'latin1');
      forEachQueuedRecord(records, (bytes, start, end) => {
        seq += 1;
        const chained = writeChainedLine(out, length, seq, { bytes, start, end }, prev, this.hasher);
        length = chained.offset;
        prev = chained.hash;
      });
      if (prev !== null && seq > (last?.seq ?? 0)) position = { seq, prev: null, hash: prev, event_type: '', detail: undefined };
      const bytes = out.subarray(0, length);
      await writeAll(handle, bytes);
      // fsync rather than fdatasync: the same guarantee for an append (the size changes either
      // way), and the container's seccomp profile allows fsync only.
      await handle.sync();
      if (position !== undefined) this.leftAt = { dev: stats.dev, ino: stats.ino, size: stats.size + bytes.length, last: position };
      if (this.options.copy !== undefined) this.options.copy(bytes.toString('utf8', prefix.length));
    } finally {
      await handle.close();
    }
  }

  /** A buffer of at least `bytes` for one batch's lines: the kept one, grown when too small. */
  private bufferFor(bytes: number): Buffer {
    if (bytes > maxKeptBatchBufferBytes) return Buffer.allocUnsafeSlow(bytes);
    if (this.batchBuffer === undefined || this.batchBuffer.length < bytes) {
      // Grown to the next power of two: a load that creeps up does not reallocate every flush.
      this.batchBuffer = Buffer.allocUnsafeSlow(Math.min(maxKeptBatchBufferBytes, 2 ** Math.ceil(Math.log2(Math.max(bytes, 64 * 1024)))));
    }
    return this.batchBuffer;
  }

  private internal(eventType: string, result: AuditEvent['result'], detail: AuditEvent['detail']): string {
    return serializeEventFields({ event_type: eventType, result, actor: 'audit', detail }, this.now());
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += (await handle.write(bytes, written, bytes.length - written)).bytesWritten;
}
