/**
 * Runs wrk (pinned to the load core) with bench/wrk/post.lua and returns its numbers. The Lua script
 * prints exact integers from wrk's own histogram in a `done()` callback, so nothing human-formatted
 * ("1.23ms", "12.3k") is parsed back.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, runBounded, cores } from './processes.mjs';

const luaScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'wrk', 'post.lua');

/** Exits with install instructions when wrk is missing: the harness has no fallback generator. */
export function requireWrk() {
  if (hasCommand('wrk')) return;
  process.stderr.write(
    'bench: wrk not found. Install it (Debian/Ubuntu: `sudo apt-get install -y wrk`; macOS: `brew install wrk`) and re-run.\n',
  );
  process.exit(2);
}

/**
 * @typedef {object} WrkResult
 * @property {number} requests       completed requests (any status)
 * @property {number} durationSeconds
 * @property {number} requestsPerSecond
 * @property {number} p50Ms
 * @property {number} p90Ms
 * @property {number} p99Ms
 * @property {number} errors         socket errors + timeouts + non-2xx/3xx responses
 * @property {number} statusErrors   non-2xx/3xx responses alone
 */

/**
 * @param {{ url: string, connections: number, durationSeconds: number, bodyFile: string, headers: Record<string, string> }} options
 * @returns {Promise<WrkResult>}
 */
export async function runWrk({ url, connections, durationSeconds, bodyFile, headers }) {
  const headerLines = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n');
  // One wrk thread: it shares its core with the stub upstream, and one thread drives 64 connections easily.
  const args = ['-t1', `-c${connections}`, `-d${durationSeconds}s`, '--timeout', '10s', '--latency', '-s', luaScript, url];
  const run = await runBounded('wrk', args, {
    core: cores.load,
    env: { ...process.env, BENCH_BODY_FILE: bodyFile, BENCH_HEADERS: headerLines },
    timeoutMs: (durationSeconds + 20) * 1000,
  });
  const line = run.stdout.split('\n').find((candidate) => candidate.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`wrk gave no result (exit ${run.code}${run.timedOut ? ', timed out' : ''}): ${(run.stderr || run.stdout).slice(-400)}`);
  const raw = JSON.parse(line.slice('BENCH_RESULT '.length));
  const durationSecondsMeasured = raw.duration_us / 1e6;
  return {
    requests: raw.requests,
    durationSeconds: durationSecondsMeasured,
    requestsPerSecond: raw.requests / durationSecondsMeasured,
    p50Ms: raw.p50_us / 1000,
    p90Ms: raw.p90_us / 1000,
    p99Ms: raw.p99_us / 1000,
    errors: raw.errors_connect + raw.errors_read + raw.errors_write + raw.errors_timeout + raw.errors_status,
    statusErrors: raw.errors_status,
  };
}
