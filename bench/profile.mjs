#!/usr/bin/env node
/**
 * CPU profile of the proxy under a fixed wrk load, to see where the microseconds per request go
 * (docs/benchmarks.md, "Where the time goes"). Not part of `npm run bench`:
 *
 *   node bench/profile.mjs [--scenario chat-c32] [--seconds 5] [--top 25]
 *                          [--entry LABEL=path/to/cli/main.js]... [--entry floor] [--keep DIR] [--layers a,b,c]
 *
 * Each entry (default: this checkout's dist/cli/main.js) runs in turn under `node --cpu-prof`,
 * pinned to the target core like in the benchmark, with every layer the benchmark switches on; wrk
 * and the stub run on the load core. Printed per entry: requests, CPU µs/request from /proc, and the
 * profile's busy time split by origin (our code, fastify, undici, pino, node internals, GC, native)
 * and by function (self time), both as µs per request. Two entries side by side (say main and a
 * worktree of an older commit) show which functions the newer one added; `--entry floor` profiles
 * the Node floor (bench/floor-proxy.mjs) the same way, to see what the proxy adds to it. Profiling itself costs CPU,
 * so compare entries with each other, not with the figures of `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cores, installCleanup, startListeningScript, stopProcess } from './lib/processes.mjs';
import { readCpuTicks, readThreadTicks, ticksToMicroseconds } from './lib/proc-stats.mjs';
import { requireWrk, runWrk } from './lib/wrk.mjs';
import { bodies, scenarioPath, throughputScenarios, writeBodies } from './lib/scenarios.mjs';
import { loadProxyDefaults, proxyEntry, proxyTarget } from './lib/targets.mjs';
import { layers, makeClientKey } from './lib/proxy-layers.mjs';
import { sendOnce } from './lib/http-check.mjs';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'chat-c32' },
    seconds: { type: 'string', default: '5' },
    top: { type: 'string', default: '25' },
    entry: { type: 'string', multiple: true },
    keep: { type: 'string' },
    layers: { type: 'string' },
    strace: { type: 'boolean', default: false },
    allocations: { type: 'boolean', default: false },
    callers: { type: 'string', multiple: true },
    inclusive: { type: 'boolean', default: false },
    'threads-only': { type: 'boolean', default: false },
  },
});
const scenario = throughputScenarios.find((candidate) => candidate.name === values.scenario);
if (!scenario) throw new Error(`unknown scenario ${values.scenario}`);
const seconds = Number(values.seconds);
const entries = (values.entry ?? [`this=${proxyEntry}`]).map((text) => {
  const [label, file] = text.includes('=') ? [text.slice(0, text.indexOf('=')), text.slice(text.indexOf('=') + 1)] : [text, text];
  return { label, file: path.resolve(file) };
});

installCleanup();
requireWrk();
const tempDir = mkdtempSync(path.join(os.tmpdir(), 'cliproxy-profile-'));
if (process.env.BENCH_KEEP_TEMP !== '1') process.on('exit', () => rmSync(tempDir, { recursive: true, force: true }));
else process.stderr.write(`kept: ${tempDir}\n`);
const bodyFiles = writeBodies(tempDir);
const { clientKey, clientKeySha256 } = makeClientKey();
const headers = { authorization: `Bearer ${clientKey}`, ...(scenario.clientFormat === 'anthropic' ? { 'anthropic-version': '2023-06-01' } : {}) };
// The layers every current build accepts (the benchmark's discovery finds the same on main).
// `--layers a,b,c` picks others (say every layer of main, or all but one to see what that one costs).
const onLayerNames = values.layers?.split(',') ?? ['client-auth', 'ip-rate-limit', 'validation', 'access-log'];
const onLayers = layers.filter((layer) => onLayerNames.includes(layer.name));
const stub = await startListeningScript({ script: path.join(import.meta.dirname, 'stub-upstream.mjs'), args: ['--chunks', '20'], core: cores.load });

/** Where a profile node's code lives. */
function originOf(node) {
  const { url, functionName } = node.callFrame;
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(program)' || functionName === '(idle)' || functionName === '(root)') return functionName;
  if (url === '') return 'native';
  if (url.includes('/node_modules/')) return url.match(/\/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? 'node_modules';
  if (url.startsWith('node:')) return 'node';
  return 'ours';
}

/**
 * Self time per profile node, counting only samples taken between `fromUs` and `toUs`. V8 stamps
 * samples with the monotonic clock that `process.hrtime` reads, so the window is the measured
 * wrk run: start-up (module loading) and warm-up stay out.
 */
function selfTimes(profile, fromUs, toUs) {
  const selfUs = new Map();
  let at = profile.startTime;
  for (let index = 0; index < profile.samples.length; index++) {
    at += profile.timeDeltas[index] ?? 0;
    if (at < fromUs || at > toUs) continue;
    const id = profile.samples[index];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index + 1] ?? 0));
  }
  return selfUs;
}

function summarize(profile, selfUs, requests) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byOrigin = new Map();
  const byFunction = new Map();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    const origin = originOf(node);
    if (origin === '(idle)' || origin === '(root)') continue;
    busy += us;
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|dist|src)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'}${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const perRequest = (us) => (us / requests).toFixed(2).padStart(7);
  const lines = [`  profile busy time: ${perRequest(busy)} µs/request`];
  for (const [origin, us] of [...byOrigin].sort((a, b) => b[1] - a[1]).slice(0, 10)) lines.push(`    ${origin.padEnd(24)} ${perRequest(us)}`);
  lines.push('  self time by function (µs/request):');
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) lines.push(`    ${perRequest(us)}  ${name}`);
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const nameOf = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || '(anonymous)'}${url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|dist|src)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}`}`;
  };
  // `--callers NAME`: where a function's self time comes from (its four nearest callers).
  for (const wanted of values.callers ?? []) {
    const stacks = new Map();
    for (const [id, us] of selfUs) {
      if (byId.get(id).callFrame.functionName !== wanted) continue;
      const frames = [];
      for (let at = parentOf.get(id); at !== undefined && frames.length < 4; at = parentOf.get(at)) frames.push(nameOf(byId.get(at)));
      const key = frames.join(' < ');
      stacks.set(key, (stacks.get(key) ?? 0) + us);
    }
    lines.push(`  callers of ${wanted} (µs/request):`);
    for (const [stack, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 8)) lines.push(`    ${perRequest(us)}  < ${stack}`);
  }
  // `--inclusive`: our functions with everything they call (a sample counts once per function on its stack).
  if (values.inclusive) {
    const inclusive = new Map();
    for (const [id, us] of selfUs) {
      const seen = new Set();
      for (let at = id; at !== undefined; at = parentOf.get(at)) {
        const node = byId.get(at);
        if (originOf(node) !== 'ours') continue;
        const name = nameOf(node);
        if (seen.has(name)) continue;
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
    lines.push('  our functions, inclusive time (µs/request):');
    for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) lines.push(`    ${perRequest(us)}  ${name}`);
  }
  return lines.join('\n');
}

/** Sampled allocation bytes per request, by function (self) and by origin. */
function summarizeAllocations(profile, requests) {
  const byFunction = new Map();
  const byOrigin = new Map();
  let total = 0;
  const visit = (node) => {
    if (node.selfSize > 0) {
      const { functionName, url, lineNumber } = node.callFrame;
      const key = `${functionName || '(anonymous)'} ${url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
      const origin = originOf(node);
      byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  const perRequest = (bytes) => (bytes / requests).toFixed(0).padStart(8);
  const lines = [`  allocated: ${perRequest(total)} bytes/request`];
  for (const [origin, bytes] of [...byOrigin].sort((a, b) => b[1] - a[1])) lines.push(`    ${origin.padEnd(24)} ${perRequest(bytes)}`);
  lines.push('  by function (bytes/request):');
  for (const [name, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) lines.push(`    ${perRequest(bytes)}  ${name}`);
  return lines.join('\n');
}

/** The proxy build at `file` with the chosen layers, under the profiler. */
async function startProxy(file, label, nodeArgs) {
  const defaults = await loadProxyDefaults(file);
  if (!defaults) throw new Error(`${file}: not built (config/defaults.js missing beside it)`);
  const target = proxyTarget({ name: `profile-${label}`, defaults, tempDir, clientKeySha256, onLayers, entry: file, nodeArgs });
  return target.start({ port: stub.port, stubArgs: [] });
}

/** The Node floor under the profiler: node's flags go before the script. */
async function startFloor(nodeArgs) {
  const floorScript = path.join(import.meta.dirname, 'floor-proxy.mjs');
  const [first, ...rest] = nodeArgs;
  const started = await startListeningScript({ script: first, args: [...rest, floorScript, '--upstream', `http://127.0.0.1:${stub.port}`], core: cores.target });
  return { pid: started.pid, baseUrl: `http://127.0.0.1:${started.port}`, stop: () => stopProcess(started.child) };
}

for (const { label, file } of entries) {
  const profileDir = values.keep ? path.resolve(values.keep, label) : path.join(tempDir, `profile-${label}`);
  // `--strace`: count system calls per request instead of profiling (strace -c over the measured run).
  const allocationFile = path.join(os.tmpdir(), `cliproxy-allocations-${label}.json`);
  process.env.BENCH_ALLOCATION_PROFILE = allocationFile;
  const nodeArgs = values.allocations
    ? ['--import', path.join(import.meta.dirname, 'lib', 'allocation-sampler.mjs')]
    : values.strace || values['threads-only'] ? ['--no-deprecation'] : ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-interval', '250'];
  // BENCH_PROFILE_NODE_ARGS: extra node flags for the profiled process only (`--trace-gc`, `--max-semi-space-size=…`).
  const extraNodeArgs = process.env.BENCH_PROFILE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const running = label === 'floor' ? await startFloor([...extraNodeArgs, ...nodeArgs]) : await startProxy(file, label, [...extraNodeArgs, ...nodeArgs]);
  const url = running.baseUrl + scenarioPath(scenario);
  const answer = await sendOnce({ url, headers, body: JSON.stringify(bodies[scenario.body]) });
  if (answer.status !== 200 || !answer.text.includes(scenario.expect)) throw new Error(`${label}: sanity check: ${answer.status} ${answer.text.slice(0, 200)}`);
  const load = { url, connections: scenario.connections, bodyFile: bodyFiles[scenario.body], headers };
  const warmUpRequests = (await runWrk({ ...load, durationSeconds: 1 })).requests; // warm-up (in the profile too, but counted out below)
  const straceFile = path.join(os.tmpdir(), `cliproxy-strace-${label}.txt`); // kept for a closer look
  const tracer = values.strace ? spawn('strace', [...(process.env.BENCH_STRACE_ARGS?.split(' ') ?? ['-c']), '-f', '-o', straceFile, '-p', String(running.pid)], { stdio: 'ignore' }) : undefined;
  if (tracer) await new Promise((resolve) => setTimeout(resolve, 500)); // attach before the load
  const before = readCpuTicks(running.pid);
  const threadsBefore = readThreadTicks(running.pid);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await runWrk({ ...load, durationSeconds: seconds });
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const cpuUs = ticksToMicroseconds(before, readCpuTicks(running.pid));
  const threadsAfter = readThreadTicks(running.pid);
  const threadLine = [...threadsAfter]
    .map(([name, ticks]) => [name, ticksToMicroseconds(threadsBefore.get(name) ?? 0, ticks) / result.requests])
    .filter(([, us]) => us > 0)
    .sort((first, second) => second[1] - first[1])
    .map(([name, us]) => `${name} ${us.toFixed(1)}`)
    .join(', ');
  if (tracer) {
    const exited = new Promise((resolve) => tracer.once('exit', resolve));
    tracer.kill('SIGINT');
    await exited;
    await running.stop();
    process.stdout.write(`\n## ${label} (${file}) under strace\n  ${result.requests} requests in ${seconds} s\n`);
    for (const line of readFileSync(straceFile, 'utf8').split('\n')) {
      const columns = line.trim().split(/\s+/);
      // % time, seconds, usecs/call, calls, [errors], syscall
      if (columns.length >= 5 && /^\d/.test(columns[0])) process.stdout.write(`    ${(Number(columns[3]) / result.requests).toFixed(3).padStart(8)} calls/request  ${columns.at(-1)}\n`);
    }
    continue;
  }
  await running.stop(); // SIGTERM: the proxy exits and node writes the profile
  if (values['threads-only']) {
    // No profiler: CPU per request by thread only (the profiler's own thread and its cost left out).
    process.stdout.write(`\n## ${label} (${file})\n  ${scenario.name}: ${result.requests} requests in ${seconds} s, ${(cpuUs / result.requests).toFixed(1)} CPU µs/request, by thread: ${threadLine}\n`);
    continue;
  }
  if (values.allocations) {
    process.stdout.write(`\n## ${label} (${file}) allocations (start-up included)\n  ${result.requests} requests in ${seconds} s\n`);
    process.stdout.write(`${summarizeAllocations(JSON.parse(readFileSync(allocationFile, 'utf8')), result.requests + warmUpRequests)}\n`);
    continue;
  }
  const profileFile = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (!profileFile) throw new Error(`${label}: no profile written in ${profileDir}`);
  const profile = JSON.parse(readFileSync(path.join(profileDir, profileFile), 'utf8'));
  process.stdout.write(`\n## ${label} (${file})\n  ${scenario.name}: ${result.requests} requests in ${seconds} s, ${(cpuUs / result.requests).toFixed(1)} CPU µs/request (/proc, profiler on), ${result.errors} errors\n  by thread (µs/request): ${threadLine}\n`);
  process.stdout.write(`${summarize(profile, selfTimes(profile, fromUs, toUs), result.requests)}\n`);
}
process.exit(0);
