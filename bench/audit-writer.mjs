/**
 * Micro-benchmark of the audit log's cost (src/audit/): what a request pays on its path (building
 * its record: one string, one redactor pass, one queue push) and what the batched flush costs per
 * record (numbering, hashing, one append + fsync per batch, under the file lock). Run after
 * `npm run build`:
 *
 *   node bench/audit-writer.mjs          # pin it for steadier numbers: taskset -c 0 node bench/audit-writer.mjs
 *
 * CPU time (process.cpuUsage, user + system of this process) is reported beside wall time: the
 * flush's fsync waits on the disk without using the CPU, and the gateway's target is CPU per request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestFields } from '../dist/audit/request-audit.js';
import { serializeEventFields } from '../dist/audit/audit-record.js';
import { AuditFileWriter } from '../dist/audit/audit-writer.js';
import { registerSecrets } from '../dist/security/redact.js';

registerSecrets(['bench-upstream-key-0001']);

/** A finished per-request record as the pass-through scenario leaves it. */
const exchange = {
  requestId: 'b2f7c9de-5d1a-4c55-9d59-2a2f6f0f3e11',
  clientIp: '127.0.0.1',
  principal: { id: 'bench', source: 'client-key' },
  requestedModel: 'bench-model',
  route: { provider: 'stub', upstreamModel: 'bench-model' },
  attempts: [{ credentialId: 'stub-key-1' }],
  firstByteMs: 0.9,
  usage: { inputTokens: 12, outputTokens: 34, cachedTokens: undefined },
  outcome: { status: 200, errorCode: undefined, clientAborted: false },
  endedAt: Date.now(),
  durationMs: 1.4,
};

function cpuMicros(start) {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

function measure(label, iterations, work) {
  for (let index = 0; index < Math.min(iterations, 20_000); index++) work(index); // warm-up
  const cpuStart = process.cpuUsage();
  const wallStart = process.hrtime.bigint();
  for (let index = 0; index < iterations; index++) work(index);
  const wall = Number(process.hrtime.bigint() - wallStart) / 1_000;
  console.log(`${label.padEnd(58)} ${(cpuMicros(cpuStart) / iterations).toFixed(2).padStart(7)} µs CPU  ${(wall / iterations).toFixed(2).padStart(7)} µs wall  per record`);
}

async function measureFlush(label, batchSize, batches, key) {
  const directory = mkdtempSync(join(tmpdir(), 'cliproxy-audit-bench-'));
  try {
    const writer = new AuditFileWriter({ file: join(directory, 'audit.jsonl'), key, maxFileBytes: 1024 * 1024 * 1024, flushIntervalMs: 60_000, flushAtRecords: 1_000_000, onError: (error) => console.error(error) });
    const fields = requestFields(exchange, 'bench');
    for (let index = 0; index < batchSize; index++) writer.enqueue(fields);
    await writer.flush(); // warm-up: creates the file
    const cpuStart = process.cpuUsage();
    const wallStart = process.hrtime.bigint();
    for (let batch = 0; batch < batches; batch++) {
      for (let index = 0; index < batchSize; index++) writer.enqueue(fields);
      await writer.flush();
    }
    const records = batchSize * batches;
    const wall = Number(process.hrtime.bigint() - wallStart) / 1_000;
    console.log(`${label.padEnd(58)} ${(cpuMicros(cpuStart) / records).toFixed(2).padStart(7)} µs CPU  ${(wall / records).toFixed(2).padStart(7)} µs wall  per record (${(wall / batches / 1000).toFixed(2)} ms per flush)`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const sink = [];
measure('request path: the per-request record (requestFields)', 200_000, () => {
  sink.push(requestFields(exchange, 'bench'));
  if (sink.length > 1_000) sink.length = 0;
});
measure('a security event through serializeEventFields', 200_000, (index) => {
  sink.push(serializeEventFields({ event_type: 'auth-failure', result: 'failure', ip: '198.51.100.7', request_id: `r-${index}`, detail: { scope: 'client', reason: 'unknown key' } }, Date.now()));
  if (sink.length > 1_000) sink.length = 0;
});
const key = Buffer.alloc(32, 7);
await measureFlush('flush, SHA-256, batches of 10 (100 req/s at 100 ms)', 10, 200, undefined);
await measureFlush('flush, SHA-256, batches of 100 (1,000 req/s at 100 ms)', 100, 100, undefined);
await measureFlush('flush, HMAC-SHA-256, batches of 100', 100, 100, key);
await measureFlush('flush, SHA-256, batches of 1,000 (10,000 req/s)', 1_000, 20, undefined);
