import { describe, expect, it } from 'vitest';
import { chainedLineOverheadBytes, chainLine, hashFunctionFor, writeChainedLine } from './audit-record.js';
import { AuditRecordQueue, forEachQueuedRecord, sizeOfQueued, type QueuedChunk } from './record-queue.js';

function recordsOf(chunks: readonly QueuedChunk[]): string[] {
  const records: string[] = [];
  forEachQueuedRecord(chunks, (bytes, start, end) => records.push(bytes.toString('utf8', start, end)));
  return records;
}

describe('audit record queue', () => {
  it('gives back every record in order, multi-byte text and chunk boundaries included', () => {
    const queue = new AuditRecordQueue();
    const records = Array.from({ length: 3_000 }, (_, index) => `"n":${index},"text":"é€😀-${'x'.repeat(index % 300)}"`);
    // One record larger than a whole chunk gets a chunk of its own.
    records.splice(1_500, 0, `"big":"${'ü'.repeat(200_000)}"`);
    for (const record of records) queue.push(record);
    expect(queue.length).toBe(records.length);
    const taken = queue.take();
    expect(taken.length).toBeGreaterThan(1);
    expect(queue.length).toBe(0);
    expect(recordsOf(taken)).toEqual(records);
    expect(sizeOfQueued(taken)).toEqual({ records: records.length, bytes: records.reduce((sum, record) => sum + Buffer.byteLength(record), 0) });
  });

  it('restores a failed batch in front of newer records, dropping the newest beyond the bound', () => {
    const queue = new AuditRecordQueue();
    for (let index = 0; index < 5; index++) queue.push(`"old":${index}`);
    const taken = queue.take();
    for (let index = 0; index < 4; index++) queue.push(`"new":${index}`);
    expect(queue.restore(taken, 7)).toBe(2);
    expect(queue.length).toBe(7);
    queue.push('"after":0');
    expect(recordsOf(queue.take())).toEqual(['"old":0', '"old":1', '"old":2', '"old":3', '"old":4', '"new":0', '"new":1', '"after":0']);
  });

  it('reuses written chunks for new records, and a reused chunk gives back only the new records', () => {
    const queue = new AuditRecordQueue();
    const long = (label: string, index: number) => `"${label}":${index},"pad":"${'o'.repeat(400)}"`;
    for (let index = 0; index < 1_500; index++) queue.push(long('old', index)); // three chunks of 256 KiB
    const written = queue.take();
    expect(written.length).toBeGreaterThan(1);
    queue.recycle(written);
    queue.push('"new":0');
    queue.push('"new":1');
    const again = queue.take();
    expect(written.map((chunk) => chunk.bytes)).toContain(again[0]?.bytes); // the same memory, not a new allocation
    expect(recordsOf(again)).toEqual(['"new":0', '"new":1']); // nothing of the old records behind them
  });

  it('keeps a chunk larger than the usual size out of reuse, and at most a few spares', () => {
    const queue = new AuditRecordQueue();
    queue.push(`"big":"${'x'.repeat(300_000)}"`);
    const big = queue.take();
    queue.recycle(big);
    queue.push('"small":0');
    expect(queue.take()[0]?.bytes).not.toBe(big[0]?.bytes);

    const many: QueuedChunk[] = [];
    for (let round = 0; round < 10; round++) {
      queue.push(`"round":${round}`);
      many.push(...queue.take());
    }
    queue.recycle(many);
    const reused = new Set<Buffer>();
    for (let round = 0; round < 10; round++) {
      queue.push(`"later":${round}`);
      const [chunk] = queue.take();
      if (chunk !== undefined && many.some((old) => old.bytes === chunk.bytes)) reused.add(chunk.bytes);
    }
    expect(reused.size).toBe(4);
  });
});

describe('writeChainedLine', () => {
  it('writes the bytes chainLine builds, with the same hash, for both algorithms', () => {
    const fields = '"timestamp":"2026-12-03T12:00:00.000Z","event_type":"test","detail":"naïve – ✓"';
    const bytes = Buffer.from(`xx${fields}yy`);
    for (const chain of [hashFunctionFor(undefined), hashFunctionFor(Buffer.alloc(32, 7))]) {
      for (const prev of [null, `${chain.algorithm}:${'ab'.repeat(32)}`]) {
        const expected = chainLine(123_456_789, fields, prev, chain.hash);
        const out = Buffer.alloc(3 + Buffer.byteLength(fields) + chainedLineOverheadBytes);
        const written = writeChainedLine(out, 3, 123_456_789, { bytes, start: 2, end: bytes.length - 2 }, prev, chain);
        expect(out.toString('utf8', 3, written.offset)).toBe(`${expected.line}\n`);
        expect(written.hash).toBe(expected.hash);
      }
    }
  });
});
