#!/usr/bin/env node
/**
 * The benchmark (issue 3). `npm run bench` builds the proxy, then runs this file:
 *
 *   node bench/run.mjs [--quick] [--scenario NAME]... [--rounds N] [--duration SECONDS] [--warmup SECONDS]
 *                      [--no-proxy] [--no-layers] [--no-tls] [--also LABEL=path/to/cli/main.js]...
 *                      [--with-layers LABEL=layer,layer]...
 *
 * Targets pinned to core 0 (stub-direct, the undici floor, our proxy and its layer variants), stubs
 * and load generators pinned to core 1. Each scenario starts fresh target processes, checks that each
 * answers correctly, warms them up, then measures them round by round in rotating order so that
 * background noise hits every target alike; medians and ratios to the floor of the same run are
 * reported. Results: bench/results/<timestamp>.json and a markdown table on stdout. docs/benchmarks.md
 * explains the method.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { cores, installCleanup, pinningEnabled, runBounded, startListeningScript, hasCommand } from './lib/processes.mjs';
import { readCpuTicks, readMemory, ticksToMicroseconds } from './lib/proc-stats.mjs';
import { requireWrk, runWrk } from './lib/wrk.mjs';
import { bodies, endpointPaths, scenarioPath, streamScenarios, throughputScenarios, writeBodies } from './lib/scenarios.mjs';
import { compatibleConfigFor, floor, loadProxyDefaults, proxyEntry, proxyTarget, repoRoot, rewriteFloor, stubDirect } from './lib/targets.mjs';
import { makeClientKey } from './lib/proxy-layers.mjs';
import { auditRecordsOf, discoverProxy, scrapeLayerEvidence } from './lib/layer-discovery.mjs';
import { sendOnce } from './lib/http-check.mjs';
import { firstByteTable, layerTable, ratio, slowStreamTable, summarizeRounds, targetChecks, throughputTable } from './lib/report.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string', multiple: true },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    'no-proxy': { type: 'boolean', default: false },
    'no-layers': { type: 'boolean', default: false },
    'no-tls': { type: 'boolean', default: false },
    also: { type: 'string', multiple: true },
    'with-layers': { type: 'string', multiple: true },
    'with-node-args': { type: 'string', multiple: true },
    paired: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
/** A comma-separated list wrapped to the help text's indented column. */
function wrapped(text) {
  const lines = [''];
  for (const word of text.split(' ')) {
    if (lines.at(-1).length + word.length > 80) lines.push('');
    lines[lines.length - 1] += `${word} `;
  }
  return lines.map((line) => `${' '.repeat(23)}${line.trimEnd()}`).join('\n');
}

if (values.help) {
  process.stdout.write(`Usage: node bench/run.mjs [options]   (npm run bench builds first)

  --quick              3 scenarios, 2 rounds x 2 s, no layer matrix (~1.5 min)
  --scenario NAME      only this scenario (repeatable, or comma-separated):
${wrapped([...throughputScenarios, ...streamScenarios].map((scenario) => scenario.name).join(', '))}
  --rounds N           measured rounds per target (default 3)
  --duration SECONDS   length of one round (default 3)
  --warmup SECONDS     load before the first round, per target (default 3: V8 is still compiling
                       the proxy's code after 1 s, which made every first round the highest)
  --no-proxy           baselines only (stub-direct and the undici floor)
  --no-layers          skip the one-layer-off variants
  --no-tls             skip the TLS variant
  --also LABEL=PATH    also measure another build (PATH: its cli/main.js) as target proxy-LABEL in the
                       throughput scenarios, same layers, same rounds: two commits in one run (config
                       keys that build's schema rejects are left out for it, and listed)
  --with-layers LABEL=a,b,c
                       also measure this build with only the named layers on (the others off) as
                       target proxy-LABEL: say main with the layers an --also build had, for a like-for-
                       like comparison of the request path itself
  --with-node-args LABEL=FLAGS
                       also measure this build, every layer on, started with these node flags
                       (space-separated) as target proxy-LABEL: say --max-semi-space-size=32 against
                       the default young generation (docs/operations.md, "CPU and memory")
  --paired             throughput rounds load every target at once (each its own wrk, all targets
                       sharing the target core; no stub-direct): on a busy machine the background
                       load then hits all alike, and the CPU-per-request ratios stay comparable

Needs wrk (Debian: apt-get install wrk) and taskset. Results: bench/results/<timestamp>.json and a
markdown table; docs/benchmarks.md explains the method.
`);
  process.exit(0);
}
const quick = values.quick;
const rounds = Number(values.rounds ?? (quick ? 2 : 3));
const durationSeconds = Number(values.duration ?? (quick ? 2 : 3));
// Three seconds: with one, the proxy's first round cost 1.3-1.7x its second (V8's compiler threads
// still at work, and their CPU is the process's), the floor's 1.1-1.4x (docs/benchmarks.md).
const warmupSeconds = Number(values.warmup ?? 3);
for (const [option, value, least] of [['rounds', rounds, 1], ['duration', durationSeconds, 1], ['warmup', warmupSeconds, 0]]) {
  if (!Number.isInteger(value) || value < least) {
    process.stderr.write(`bench: --${option} must be a whole number of at least ${least}, got '${values[option]}'\n`);
    process.exit(2);
  }
}
const wanted = values.scenario?.flatMap((name) => name.split(',')) ?? undefined;
const knownScenarioNames = [...throughputScenarios, ...streamScenarios].map((scenario) => scenario.name);
const unknownScenarioNames = (wanted ?? []).filter((name) => !knownScenarioNames.includes(name));
if (unknownScenarioNames.length > 0) {
  process.stderr.write(`bench: no scenario named ${unknownScenarioNames.join(', ')} (see --help for the list)\n`);
  process.exit(2);
}
const selected = (scenario) => (wanted ? wanted.includes(scenario.name) : scenario.named !== true && (!quick || scenario.quick));
// A run that hangs is killed, never left behind. The limit grows with the work asked for: a fixed
// 15 minutes killed a legitimate run of 22 scenarios × 5 rounds at its 15th scenario, results lost.
// Per scenario: up to six targets (with --also, --with-layers, the layer matrix's share, TLS), each
// warmed up and measured, plus ~5 s of starting and checking; half as much again for a slow machine.
const plannedScenarioCount = throughputScenarios.filter(selected).length + streamScenarios.filter(selected).length;
const hardLimitMs = 15 * 60_000 + plannedScenarioCount * 6 * (warmupSeconds + rounds * durationSeconds + 5) * 1.5 * 1000;

const log = (line) => process.stderr.write(`${line}\n`);
const startedAt = new Date();

installCleanup();
requireWrk();
const watchdog = setTimeout(() => {
  log(`bench: still running after ${Math.round(hardLimitMs / 60_000)} min, giving up`);
  process.exit(3);
}, hardLimitMs);
watchdog.unref();

const tempDir = mkdtempSync(path.join(os.tmpdir(), 'cliproxy-bench-'));
process.on('exit', () => rmSync(tempDir, { recursive: true, force: true }));
const bodyFiles = writeBodies(tempDir);
const { clientKey, clientKeySha256 } = makeClientKey();

if (!pinningEnabled()) log('bench: WARNING: fewer than 2 cores or no taskset; running unpinned, numbers are noisier');
log(`bench: cores=${os.availableParallelism()} pinning=${pinningEnabled()} rounds=${rounds} duration=${durationSeconds}s quick=${quick}`);

// Stubs on the load core: the shared upstream, a slow-drip one (1,000 streams), a pausing one (first byte).
const stubScript = path.join(benchDir, 'stub-upstream.mjs');
const upstreams = {
  main: { stubArgs: ['--chunks', '20'] },
  slow: { stubArgs: ['--chunks', '20', '--chunk-delay-ms', '250'] },
  firstByte: { stubArgs: ['--chunks', '3', '--chunk-delay-ms', '20', '--stamp'] },
};
for (const upstream of Object.values(upstreams)) {
  const started = await startListeningScript({ script: stubScript, args: upstream.stubArgs, core: cores.load });
  upstream.port = started.port;
}

// The proxy: built? which layers exist?
/** @type {import('./lib/layer-discovery.mjs').ProxyDiscovery} */
let discovery = { available: false, reason: 'skipped (--no-proxy)', layers: [], onLayers: [], offVariants: [] };
let defaults;
const certificate = !values['no-proxy'] && !quick && !values['no-tls'] && hasCommand('openssl') ? await makeCertificate() : undefined;
if (!values['no-proxy']) {
  defaults = await loadProxyDefaults();
  if (!defaults) discovery = { ...discovery, reason: `not built: ${path.relative(repoRoot, proxyEntry)} or dist/config/defaults.js missing` };
  else {
    log('bench: checking which security layers the proxy has');
    discovery = await discoverProxy({ defaults, tempDir, clientKey, clientKeySha256, upstreamPort: upstreams.main.port, tls: certificate, log });
  }
  log(`bench: proxy ${discovery.available ? 'available' : `unavailable: ${discovery.reason}`}`);
  for (const layer of discovery.layers) log(`  layer ${layer.name}: ${layer.status}${layer.note ? ` (${layer.note})` : ''}`);
  // Without a certificate the discovery cannot tell why; say it when the options left TLS out.
  if (!certificate && (quick || values['no-tls'])) discovery.tlsStatus = `not run (${quick ? '--quick' : '--no-tls'})`;
  if (discovery.tlsStatus) log(`  tls: ${discovery.tlsStatus}`);
}

const tls = discovery.tlsStatus === 'accepted' ? certificate : undefined;
const proxyCommon = { defaults, tempDir, clientKeySha256 };
const allOnProxy = discovery.available ? proxyTarget({ name: 'proxy', onLayers: discovery.onLayers, ...proxyCommon }) : undefined;
// Other builds (--also): the same layers as this one, their own compiled defaults as the config base.
const otherProxies = [];
/** @type {Record<string, string[]>} per --also target, the config keys left out because its schema rejects them */
const droppedKeys = {};
for (const text of discovery.available ? (values.also ?? []) : []) {
  const separator = text.indexOf('=');
  if (separator < 1) throw new Error(`--also wants LABEL=path/to/cli/main.js, got ${text}`);
  const entry = path.resolve(text.slice(separator + 1));
  const otherDefaults = await loadProxyDefaults(entry);
  if (!otherDefaults) throw new Error(`--also ${text}: not built (config/defaults.js missing beside it)`);
  const name = `proxy-${text.slice(0, separator)}`;
  // An older build's schema may reject keys this run sets (layers it does not have yet): drop them for it.
  const compatible = await compatibleConfigFor(entry, otherDefaults, {
    instanceDir: path.join(tempDir, 'config-check', name),
    port: 8317,
    upstreamPort: upstreams.main.port,
    clientKeySha256,
    onLayers: discovery.onLayers,
  });
  if (!compatible.ok) {
    log(`  ${name}: skipped: ${compatible.reason}`);
    continue;
  }
  if (compatible.dropped.length > 0) log(`  ${name}: config keys its schema rejects, left out for it: ${compatible.dropped.join(', ')}`);
  droppedKeys[name] = compatible.dropped;
  otherProxies.push(proxyTarget({ name, onLayers: discovery.onLayers, ...proxyCommon, defaults: otherDefaults, entry, patch: compatible.patch }));
}

// This build with a chosen set of layers (--with-layers LABEL=a,b,c).
for (const text of discovery.available ? (values['with-layers'] ?? []) : []) {
  const separator = text.indexOf('=');
  if (separator < 1) throw new Error(`--with-layers wants LABEL=layer,layer, got ${text}`);
  const names = text.slice(separator + 1).split(',').filter((name) => name !== '');
  const unknown = names.filter((name) => !discovery.onLayers.some((layer) => layer.name === name));
  if (unknown.length > 0) throw new Error(`--with-layers ${text}: not a layer this build enforces: ${unknown.join(', ')} (layers: ${discovery.onLayers.map((layer) => layer.name).join(', ')})`);
  otherProxies.push(proxyTarget({ name: `proxy-${text.slice(0, separator)}`, onLayers: discovery.onLayers.filter((layer) => names.includes(layer.name)), ...proxyCommon }));
}

// This build under other node flags (--with-node-args LABEL=FLAGS), every layer on; measured in the
// stream scenarios too, since a flag that trades memory for CPU must show both.
const nodeArgProxies = [];
for (const text of discovery.available ? (values['with-node-args'] ?? []) : []) {
  const separator = text.indexOf('=');
  if (separator < 1) throw new Error(`--with-node-args wants LABEL=--flag[ --flag…], got ${text}`);
  const nodeArgs = text.slice(separator + 1).split(' ').filter((flag) => flag !== '');
  const notFlags = nodeArgs.filter((flag) => !flag.startsWith('--'));
  if (nodeArgs.length === 0 || notFlags.length > 0) throw new Error(`--with-node-args ${text}: every word must be a node flag (--…), got ${notFlags.join(' ') || 'none'}`);
  nodeArgProxies.push(proxyTarget({ name: `proxy-${text.slice(0, separator)}`, onLayers: discovery.onLayers, nodeArgs, ...proxyCommon }));
}
otherProxies.push(...nodeArgProxies);

/** Targets of one scenario, in a fixed order (rotated per round). */
function targetsFor(scenario) {
  const list = values.paired ? [floor] : [stubDirect, floor];
  if (scenario.rewriteFloor) list.push(rewriteFloor);
  if (allOnProxy) list.push(allOnProxy, ...otherProxies);
  if (scenario.layerMatrix && allOnProxy && !quick && !values['no-layers']) {
    for (const layer of discovery.offVariants) {
      const onLayers = discovery.onLayers.filter((candidate) => candidate !== layer);
      list.push(proxyTarget({ name: `proxy-no-${layer.name}`, onLayers, ...proxyCommon }));
    }
    if (tls) list.push(proxyTarget({ name: 'proxy-tls', onLayers: discovery.onLayers, tls, ...proxyCommon }));
  }
  return list;
}

const headersFor = (scenario) => ({
  authorization: `Bearer ${clientKey}`,
  ...(scenario.clientFormat === 'anthropic' ? { 'anthropic-version': '2023-06-01' } : {}),
});

/** Starts a target and checks one request answers correctly; returns a skip reason otherwise. */
async function startChecked(spec, upstream, scenario) {
  let running;
  try {
    running = await spec.start(upstream);
  } catch (error) {
    return { skipped: String(error instanceof Error ? error.message : error) };
  }
  if (scenario) {
    const answer = await sendOnce({ url: running.baseUrl + scenarioPath(scenario), headers: headersFor(scenario), body: JSON.stringify(bodies[scenario.body]) });
    if (answer.status !== 200 || !answer.text.includes(scenario.expect)) {
      await running.stop();
      return { skipped: `sanity check: status ${answer.status}: ${answer.text.slice(0, 200)}` };
    }
  }
  return { running };
}

/** One wrk run against a running target, with the target's CPU time around it. */
async function measure(running, scenario, seconds) {
  const before = readCpuTicks(running.pid);
  const result = await runWrk({
    url: running.baseUrl + scenarioPath(scenario),
    connections: scenario.connections,
    durationSeconds: seconds,
    bodyFile: bodyFiles[scenario.body],
    headers: headersFor(scenario),
  });
  const cpuUs = ticksToMicroseconds(before, readCpuTicks(running.pid));
  return { ...result, cpuUs, cpuUsPerRequest: result.requests > 0 ? cpuUs / result.requests : null, cpuShare: cpuUs / (result.durationSeconds * 1e6) };
}

async function runThroughputScenario(scenario) {
  log(`bench: ${scenario.name}: ${scenario.description}`);
  const entries = [];
  for (const spec of targetsFor(scenario)) {
    const started = await startChecked(spec, upstreams.main, scenario);
    entries.push({ name: spec.name, ...started, rounds: [] });
    if (started.skipped) log(`  ${spec.name}: skipped: ${started.skipped.split('\n')[0]}`);
  }
  const live = entries.filter((entry) => entry.running);
  try {
    if (values.paired) {
      await Promise.all(live.map((entry) => measure(entry.running, scenario, warmupSeconds)));
      for (let round = 0; round < rounds; round++) {
        const results = await Promise.all(live.map((entry) => measure(entry.running, scenario, durationSeconds)));
        live.forEach((entry, index) => entry.rounds.push(results[index]));
        log(`  round ${round + 1}: ${live.map((entry, index) => `${entry.name} ${results[index].cpuUsPerRequest?.toFixed(0)} µs/req`).join(', ')}`);
      }
    }
    for (const entry of values.paired ? [] : live) entry.warmupRequests = (await measure(entry.running, scenario, warmupSeconds)).requests;
    for (let round = 0; round < (values.paired ? 0 : rounds); round++) {
      for (let index = 0; index < live.length; index++) {
        const entry = live[(index + round) % live.length];
        const result = await measure(entry.running, scenario, durationSeconds);
        entry.rounds.push(result);
        log(`  round ${round + 1} ${entry.name}: ${result.requestsPerSecond.toFixed(0)} req/s, ${result.cpuUsPerRequest?.toFixed(0)} µs/req, p99 ${result.p99Ms.toFixed(2)} ms${result.errors ? `, ${result.errors} errors` : ''}`);
      }
    }
    for (const entry of live) {
      entry.peakRssMb = readMemory(entry.running.pid)?.peakRssMb;
      // wrk only counts failures; one more request shows what they were.
      if (entry.rounds.some((round) => round.errors > 0)) {
        const answer = await sendOnce({ url: entry.running.baseUrl + scenarioPath(scenario), headers: headersFor(scenario), body: JSON.stringify(bodies[scenario.body]) });
        entry.errorSample = `status ${answer.status}: ${answer.text.slice(0, 200)}`;
        log(`  ${entry.name}: errors during the run; a request now gets ${entry.errorSample}`);
      }
    }
    for (const entry of live) if (entry.running.auditFile !== undefined) entry.layerEvidence = await scrapeLayerEvidence(entry.running);
  } finally {
    for (const entry of live) await entry.running.stop();
  }
  // Proof that the audit and metrics layers were on while measured: a record and a count per request
  // served (the sanity request, the warm-up and every round; wrk counts only answers it read, so
  // the proxy may have served a few more). The off-variant of each shows zero.
  for (const entry of live) {
    if (!entry.layerEvidence) continue;
    const served = 1 + (entry.warmupRequests ?? 0) + entry.rounds.reduce((total, round) => total + round.requests, 0);
    entry.layerEvidence = { ...entry.layerEvidence, auditRecords: auditRecordsOf(entry.running), served };
    const { auditRecords, metricsRequests } = entry.layerEvidence;
    log(`  ${entry.name}: ${auditRecords} audit request records and ${metricsRequests} metrics-counted requests for ${served} requests wrk saw answered`);
  }
  for (const entry of live) entry.summary = summarizeRounds(entry.rounds);
  const floorSummary = entries.find((entry) => entry.name === 'floor')?.summary;
  for (const entry of live) {
    entry.ratioToFloor = {
      cpu: ratio(entry.summary.cpuUsPerRequest, floorSummary?.cpuUsPerRequest),
      requestsPerSecond: ratio(entry.summary.requestsPerSecond, floorSummary?.requestsPerSecond),
      p99: ratio(entry.summary.p99Ms, floorSummary?.p99Ms),
    };
  }
  return {
    name: scenario.name,
    description: scenario.description,
    connections: scenario.connections,
    targets: entries.map(({ running: _running, ...rest }) => rest),
  };
}

/** Runs bench/stream-client.mjs on the load core against each target in turn (fresh process each). */
async function runStreamScenario(upstream, clientArgs, timeoutMs) {
  const rows = [];
  for (const spec of [stubDirect, floor, ...(allOnProxy ? [allOnProxy, ...nodeArgProxies] : [])]) {
    const started = await startChecked(spec, upstream, undefined);
    if (started.skipped) {
      rows.push({ name: spec.name, skipped: started.skipped });
      continue;
    }
    const running = started.running;
    try {
      const before = readCpuTicks(running.pid);
      const run = await runBounded(
        process.execPath,
        [path.join(benchDir, 'stream-client.mjs'), '--url', running.baseUrl + endpointPaths.openai, '--body-file', bodyFiles['openai-stream'], '--headers', JSON.stringify(headersFor({ clientFormat: 'openai' })), '--timeout-ms', String(timeoutMs), ...clientArgs],
        { core: cores.load, timeoutMs: timeoutMs + 10_000 },
      );
      const cpuUs = ticksToMicroseconds(before, readCpuTicks(running.pid));
      const line = run.stdout.trim().split('\n').pop() ?? '';
      if (!line.startsWith('{')) throw new Error(`stream client gave no result: ${run.stderr.slice(-300)}`);
      const client = JSON.parse(line);
      rows.push({ name: spec.name, client, peakRssMb: readMemory(running.pid)?.peakRssMb, cpuUsPerStream: client.count ? cpuUs / client.count : null });
      const transit = client.transitP50Ms == null ? '' : `, upstream→client p50 ${client.transitP50Ms.toFixed(2)} ms`;
      log(`  ${spec.name}: ${client.completed}/${client.count} completed, ${client.stalled} stalled, ${client.queued} queued, first byte p50 ${client.firstByteP50Ms?.toFixed(2)} ms${transit}, peak RSS ${rows.at(-1).peakRssMb?.toFixed(0)} MB`);
    } catch (error) {
      rows.push({ name: spec.name, skipped: String(error instanceof Error ? error.message : error) });
    } finally {
      await running.stop();
    }
  }
  return rows;
}

/** Self-signed RSA certificate for the TLS variant, key mode 0600 (the proxy checks it like any secret). */
async function makeCertificate() {
  const certFile = path.join(tempDir, 'tls.crt');
  const keyFile = path.join(tempDir, 'tls.key');
  const run = await runBounded(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { timeoutMs: 20_000 },
  );
  if (run.code !== 0) return undefined;
  chmodSync(keyFile, 0o600); // the proxy refuses a key file group or others can read
  return { certFile, keyFile };
}

const report = {
  startedAt: startedAt.toISOString(),
  machine: { cpus: os.cpus()[0]?.model, cores: os.availableParallelism(), node: process.version, pinned: pinningEnabled(), loadavg: os.loadavg() },
  options: { quick, rounds, durationSeconds, warmupSeconds, scenarios: wanted ?? 'default' },
  proxy: { available: discovery.available, reason: discovery.reason, layers: discovery.layers, tls: discovery.tlsStatus ?? 'not checked', alsoDroppedKeys: droppedKeys },
  scenarios: [],
  slowStreams: undefined,
  firstByte: undefined,
};

for (const scenario of throughputScenarios.filter(selected)) report.scenarios.push(await runThroughputScenario(scenario));
const [slowScenario, firstByteScenario] = streamScenarios;
if (selected(slowScenario)) {
  log(`bench: ${slowScenario.name}: ${slowScenario.description}`);
  report.slowStreams = await runStreamScenario(upstreams.slow, ['--count', '1000', '--concurrency', '1000', '--stall-ms', '2000'], 60_000);
}
if (selected(firstByteScenario)) {
  log(`bench: ${firstByteScenario.name}: ${firstByteScenario.description}`);
  report.firstByte = await runStreamScenario(upstreams.firstByte, ['--count', quick ? '30' : '60', '--concurrency', '1', '--stall-ms', '1000', '--stamp'], 30_000);
}
report.finishedAt = new Date().toISOString();
report.machine.loadavgAtEnd = os.loadavg();

const resultsDir = path.join(benchDir, 'results');
mkdirSync(resultsDir, { recursive: true });
const resultFile = path.join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(resultFile, `${JSON.stringify(report, null, 2)}\n`);

const sections = [`## Benchmark ${report.startedAt} (${quick ? 'quick' : 'full'}; ${rounds} rounds × ${durationSeconds} s, medians)`];
sections.push(`Proxy: ${discovery.available ? 'measured' : `not measured (${discovery.reason?.split('\n')[0]})`}`);
if (report.scenarios.length) sections.push(throughputTable(report.scenarios));
const droppedNotes = Object.entries(droppedKeys).filter(([, dropped]) => dropped.length > 0);
if (droppedNotes.length) sections.push(droppedNotes.map(([name, dropped]) => `${name}: config keys its schema rejects, left out for it: ${dropped.join(', ')}`).join('\n'));
const errorNotes = report.scenarios.flatMap((scenario) => scenario.targets.filter((target) => target.errorSample).map((target) => `- ${scenario.name} / ${target.name}: errors; after the run a request got ${target.errorSample}`));
if (errorNotes.length) sections.push(`**Errors** (a target with errors is not measured fairly: its CPU per request counts failed requests):\n${errorNotes.join('\n')}`);
if (discovery.layers.length) sections.push(`### Security layers (chat-c32)\n\nTLS: ${discovery.tlsStatus ?? 'not checked'}\n\n${layerTable(discovery, report.scenarios.find((scenario) => scenario.name === 'chat-c32'))}`);
if (report.slowStreams) sections.push(`### ${slowScenario.description}\n\n${slowStreamTable(report.slowStreams)}`);
if (report.firstByte) sections.push(`### ${firstByteScenario.description}\n\n${firstByteTable(report.firstByte)}`);
if (discovery.available) sections.push(`### Targets\n\n${targetChecks(report)}`);
process.stdout.write(`\n${sections.join('\n\n')}\n\nResults: ${path.relative(repoRoot, resultFile)}\n`);
process.exit(0);
