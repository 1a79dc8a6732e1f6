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
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cores, installCleanup, startListeningScript, stopProcess } from './lib/processes.mjs';
import { readCpuTicks, ticksToMicroseconds } from './lib/proc-stats.mjs';
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
process.on('exit', () => rmSync(tempDir, { recursive: true, force: true }));
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
  const nodeArgs = ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-interval', '250'];
  const running = label === 'floor' ? await startFloor(nodeArgs) : await startProxy(file, label, nodeArgs);
  const url = running.baseUrl + scenarioPath(scenario);
  const answer = await sendOnce({ url, headers, body: JSON.stringify(bodies[scenario.body]) });
  if (answer.status !== 200 || !answer.text.includes(scenario.expect)) throw new Error(`${label}: sanity check: ${answer.status} ${answer.text.slice(0, 200)}`);
  const load = { url, connections: scenario.connections, bodyFile: bodyFiles[scenario.body], headers };
  await runWrk({ ...load, durationSeconds: 1 }); // warm-up (in the profile too, but counted out below)
  const before = readCpuTicks(running.pid);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await runWrk({ ...load, durationSeconds: seconds });
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const cpuUs = ticksToMicroseconds(before, readCpuTicks(running.pid));
  await running.stop(); // SIGTERM: the proxy exits and node writes the profile
  const profileFile = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (!profileFile) throw new Error(`${label}: no profile written in ${profileDir}`);
  const profile = JSON.parse(readFileSync(path.join(profileDir, profileFile), 'utf8'));
  process.stdout.write(`\n## ${label} (${file})\n  ${scenario.name}: ${result.requests} requests in ${seconds} s, ${(cpuUs / result.requests).toFixed(1)} CPU µs/request (/proc, profiler on), ${result.errors} errors\n`);
  process.stdout.write(`${summarize(profile, selfTimes(profile, fromUs, toUs), result.requests)}\n`);
}
process.exit(0);
