#!/usr/bin/env node
/**
 * Streaming load client for what wrk cannot see: many long-lived SSE streams at once (memory of the
 * target, and whether any stream stalled) and the time to the first streamed byte.
 *
 *   node bench/stream-client.mjs --url URL --body-file FILE [--count 1000] [--concurrency 1000]
 *        [--headers JSON] [--stall-ms 2000] [--queued-ms 5000] [--timeout-ms 30000]
 *        [--done-marker "[DONE]"] [--stamp]
 *
 * A stream counts as completed when its body contains the done marker and ended; as stalled when two
 * consecutive pieces arrived more than `--stall-ms` apart (the upstream drips every 250 ms, so a
 * multi-second gap means the target held data back or starved the stream). A stream queued before
 * its first byte (say, behind a connection limit) is not a stall but shows in the first-byte
 * percentiles and maximum, and counts as queued past `--queued-ms`. With `--stamp` (the stub's
 * option of the same name) the first content carries the wall-clock time the upstream wrote it, and
 * the client reports how long that chunk took from the upstream to here: the proxy's buffering
 * delay plus two loopback hops. Prints one JSON line.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'body-file': { type: 'string' },
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '1000' },
    headers: { type: 'string', default: '{}' },
    'stall-ms': { type: 'string', default: '2000' },
    'queued-ms': { type: 'string', default: '5000' },
    stamp: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string', default: '30000' },
    'done-marker': { type: 'string', default: '[DONE]' },
  },
});
if (!values.url || !values['body-file']) {
  process.stderr.write('usage: stream-client.mjs --url URL --body-file FILE [options]\n');
  process.exit(2);
}

const target = new URL(values.url);
const body = readFileSync(values['body-file']);
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const stallMs = Number(values['stall-ms']);
const queuedMs = Number(values['queued-ms']);
const stampPattern = /stamp:(\d+\.\d+)/;
const marker = Buffer.from(values['done-marker']);
const headers = { ...JSON.parse(values.headers), 'content-type': 'application/json', 'content-length': String(body.length) };
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

const results = { count, completed: 0, failed: 0, stalled: 0, queued: 0, statuses: /** @type {Record<string, number>} */ ({}), errors: /** @type {Record<string, number>} */ ({}) };
/** @type {number[]} */
const firstByteMs = [];
/** @type {number[]} upstream write → client receipt of the stamped chunk */
const transitMs = [];
let maxGapMs = 0;

/** One streaming request; resolves when it ends either way. */
function runOne() {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    let lastPieceAt = 0;
    let tail = Buffer.alloc(0);
    let sawMarker = false;
    let stalled = false;
    let stampSeen = !values.stamp;
    const request = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers, agent }, (response) => {
      const status = String(response.statusCode);
      results.statuses[status] = (results.statuses[status] ?? 0) + 1;
      response.on('data', (piece) => {
        const now = performance.now();
        if (!stampSeen) {
          const match = stampPattern.exec(piece.toString('latin1'));
          if (match) {
            transitMs.push(performance.timeOrigin + now - Number(match[1]));
            stampSeen = true;
          }
        }
        if (lastPieceAt === 0) {
          firstByteMs.push(now - startedAt);
          if (now - startedAt > queuedMs) results.queued++;
        } else {
          const gap = now - lastPieceAt;
          if (gap > maxGapMs) maxGapMs = gap;
          if (gap > stallMs) stalled = true;
        }
        lastPieceAt = now;
        // The marker may straddle two pieces: search the previous piece's tail joined with this one.
        const window = Buffer.concat([tail, piece]);
        if (window.indexOf(marker) !== -1) sawMarker = true;
        tail = window.subarray(Math.max(0, window.length - marker.length));
      });
      response.on('end', () => {
        if (stalled) results.stalled++;
        if (sawMarker && response.statusCode === 200) results.completed++;
        else results.failed++;
        resolve(undefined);
      });
      response.on('error', (error) => fail(error));
    });
    const fail = (error) => {
      const code = /** @type {NodeJS.ErrnoException} */ (error).code ?? error.message;
      results.errors[code] = (results.errors[code] ?? 0) + 1;
      results.failed++;
      resolve(undefined);
    };
    request.on('error', fail);
    request.end(body);
  });
}

/** @param {number[]} sorted @param {number} fraction */
const percentile = (sorted, fraction) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]);

const startedAt = performance.now();
const deadline = setTimeout(() => {
  report(true);
  process.exit(1);
}, Number(values['timeout-ms']));

let next = 0;
async function worker() {
  while (next < count) {
    next++;
    await runOne();
  }
}

function report(timedOut) {
  const sorted = firstByteMs.slice().sort((left, right) => left - right);
  const transitSorted = transitMs.slice().sort((left, right) => left - right);
  const unfinished = count - results.completed - results.failed;
  process.stdout.write(
    `${JSON.stringify({
      ...results,
      unfinished,
      timedOut,
      durationMs: Math.round(performance.now() - startedAt),
      firstByteP50Ms: percentile(sorted, 0.5),
      firstByteP99Ms: percentile(sorted, 0.99),
      firstByteMaxMs: sorted.length ? Math.round(sorted[sorted.length - 1]) : null,
      maxGapMs: Math.round(maxGapMs),
      ...(values.stamp ? { transitP50Ms: percentile(transitSorted, 0.5), transitP99Ms: percentile(transitSorted, 0.99), stamped: transitMs.length } : {}),
    })}\n`,
  );
}

await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
clearTimeout(deadline);
report(false);
agent.destroy();
