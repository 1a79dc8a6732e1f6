/**
 * The processes under test. Every target runs pinned to the target core, started fresh for each
 * scenario (peak RSS cannot be reset) and stopped after it:
 *   stub-direct  a second stub instance, hit directly: the ceiling, no proxy at all
 *   floor        bench/floor-proxy.mjs → the shared stub: the Node floor
 *   proxy*       our proxy (`node dist/cli/main.js serve --config FILE`) → the shared stub
 */
import { writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { cores, freePort, logTail, spawnTracked, startListeningScript, stopProcess, waitForPort, runBounded } from './processes.mjs';
import { buildProxyConfig } from './proxy-layers.mjs';

const benchDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.join(benchDir, '..');

/** The proxy's CLI entry; BENCH_PROXY_ENTRY overrides it (relative to the repo root). */
export const proxyEntry = path.resolve(repoRoot, process.env.BENCH_PROXY_ENTRY ?? 'dist/cli/main.js');

/**
 * @typedef {object} RunningTarget
 * @property {string} name
 * @property {number} pid       the process whose CPU and memory are measured
 * @property {string} baseUrl   scheme://127.0.0.1:port
 * @property {() => Promise<void>} stop
 * @property {string} [logFile]
 *
 * @typedef {object} UpstreamSpec  the stub a target forwards to (or imitates, for stub-direct)
 * @property {number} port
 * @property {string[]} stubArgs
 *
 * @typedef {object} TargetSpec
 * @property {string} name
 * @property {'stub' | 'floor' | 'proxy'} kind
 * @property {(upstream: UpstreamSpec) => Promise<RunningTarget>} start
 */

/** @param {string} name @param {{ child: import('node:child_process').ChildProcess, pid: number, port: number }} started */
function fromScript(name, started) {
  return { name, pid: started.pid, baseUrl: `http://127.0.0.1:${started.port}`, stop: () => stopProcess(started.child) };
}

/** @type {TargetSpec} */
export const stubDirect = {
  name: 'stub-direct',
  kind: 'stub',
  async start(upstream) {
    const started = await startListeningScript({ script: path.join(benchDir, 'stub-upstream.mjs'), args: upstream.stubArgs, core: cores.target });
    return fromScript('stub-direct', started);
  },
};

/** @type {TargetSpec} */
export const floor = {
  name: 'floor',
  kind: 'floor',
  async start(upstream) {
    const args = ['--upstream', `http://127.0.0.1:${upstream.port}`];
    const started = await startListeningScript({ script: path.join(benchDir, 'floor-proxy.mjs'), args, core: cores.target });
    return fromScript('floor', started);
  },
};

/**
 * The floor that also parses the body and writes it again (floor-proxy.mjs --rewrite-json): what any
 * Node proxy that translates a body pays at least, measured beside the plain floor in the scenarios
 * that ask for it (`rewriteFloor`, the translated ~100 KB body).
 * @type {TargetSpec}
 */
export const rewriteFloor = {
  name: 'floor-rewrite',
  kind: 'floor',
  async start(upstream) {
    const args = ['--upstream', `http://127.0.0.1:${upstream.port}`, '--rewrite-json'];
    const started = await startListeningScript({ script: path.join(benchDir, 'floor-proxy.mjs'), args, core: cores.target });
    return fromScript('floor-rewrite', started);
  },
};

/** The proxy's compiled defaults, or undefined when it is not built. @param {string} [entry] */
export async function loadProxyDefaults(entry = proxyEntry) {
  // Beside the entry (dist/cli/main.js → dist/config/defaults.js), so BENCH_PROXY_ENTRY can point at another build.
  const file = path.join(path.dirname(entry), '..', 'config', 'defaults.js');
  if (!existsSync(entry) || !existsSync(file)) return undefined;
  const module = await import(pathToFileURL(file).href);
  // A build with the codex provider type also gets a codex provider (the Responses pass-through
  // scenarios); older builds (--also, a baseline) would refuse the type, so they get none.
  const codexAdapter = path.join(path.dirname(entry), '..', 'providers', 'codex', 'adapter.js');
  const geminiAdapter = path.join(path.dirname(entry), '..', 'providers', 'gemini', 'adapter.js');
  Object.defineProperty(module.defaultConfig, 'benchGeminiProvider', { value: existsSync(geminiAdapter), enumerable: false });
  return Object.defineProperty(module.defaultConfig, 'benchCodexProvider', { value: existsSync(codexAdapter), enumerable: false });
}

/**
 * `cliproxyapi config check FILE`: exit 0 means the schema accepts the file.
 * @param {string} file
 */
export async function checkProxyConfig(file, entry = proxyEntry) {
  const run = await runBounded(process.execPath, [entry, 'config', 'check', file], { timeoutMs: 15_000, cwd: repoRoot });
  return { ok: run.code === 0, output: `${run.stdout}${run.stderr}`.trim().slice(0, 2000) };
}

/** The config paths a failed `config check` names (its "  - path: message" lines). @param {string} output */
function rejectedPaths(output) {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('- ') && line.includes(': '))
    .map((line) => line.slice(2, line.indexOf(': ')))
    // `auth.api_keys[0].models` → `auth.api_keys.0.models`, the form deletePath walks.
    .map((dotted) => dotted.replace(/\[(\d+)\]/g, '.$1'));
}

/** Deletes `a.b.c` (numeric parts index arrays) from `config`; false when it is not there. */
function deletePath(config, dotted) {
  const parts = dotted.split('.');
  let node = config;
  for (const part of parts.slice(0, -1)) {
    if (node === null || typeof node !== 'object' || !(part in node)) return false;
    node = node[part];
  }
  const last = /** @type {string} */ (parts.at(-1));
  if (node === null || typeof node !== 'object' || !(last in node)) return false;
  delete node[last];
  return true;
}

/**
 * For another build (`--also`, say a worktree of an older commit): the config keys of this run that
 * its schema rejects (keys it does not know yet, settings it refuses as "not available in this
 * version yet"), found by running ITS `config check` and dropping each path it names until it
 * passes. The older build then runs with what it has: a layer it lacks is off for it, as it was.
 * @param {string} entry  the other build's cli/main.js
 * @param {any} defaults  its compiled defaults
 * @param {Parameters<typeof buildProxyConfig>[1]} options
 * @returns {Promise<{ ok: true, dropped: string[], patch: (config: any) => void } | { ok: false, reason: string }>}
 */
export async function compatibleConfigFor(entry, defaults, options) {
  /** @type {string[]} */
  const dropped = [];
  const patch = (config) => {
    options.patch?.(config);
    for (const dotted of dropped) deletePath(config, dotted);
  };
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const file = writeProxyConfig(defaults, { ...options, patch });
    const check = await checkProxyConfig(file, entry);
    if (check.ok) return { ok: true, dropped, patch };
    const config = buildProxyConfig(defaults, { ...options, patch });
    const removable = rejectedPaths(check.output).filter((dotted) => !dropped.includes(dotted) && deletePath(config, dotted));
    if (removable.length === 0) return { ok: false, reason: `config check of ${entry} fails and names nothing to drop: ${check.output.split('\n').slice(0, 4).join(' ')}` };
    dropped.push(...removable);
  }
  return { ok: false, reason: `config check of ${entry} still fails after dropping ${dropped.join(', ')}` };
}

/**
 * Writes a proxy config for one process and returns its path.
 * @param {any} defaults @param {Parameters<typeof buildProxyConfig>[1]} options
 */
export function writeProxyConfig(defaults, options) {
  const config = buildProxyConfig(defaults, options);
  const file = path.join(options.instanceDir, 'config.yaml');
  writeFileSync(file, YAML.stringify(config), { mode: 0o600 });
  return file;
}

let instanceCounter = 0;

/**
 * A proxy target: all layers in `onLayers` on, the others off, optionally TLS.
 * @param {object} options
 * @param {string} options.name
 * @param {any} options.defaults
 * @param {string} options.tempDir
 * @param {string} options.clientKeySha256
 * @param {import('./proxy-layers.mjs').Layer[]} options.onLayers
 * @param {{ certFile: string, keyFile: string }} [options.tls]
 * @param {import('./proxy-layers.mjs').LayerProbe['patch']} [options.patch]
 * @param {string} [options.entry]       another build's cli/main.js (`--also`, bench/profile.mjs)
 * @param {string[]} [options.nodeArgs]  node flags before the entry (`--cpu-prof`, …)
 * @returns {TargetSpec}
 */
export function proxyTarget({ name, defaults, tempDir, clientKeySha256, onLayers, tls, patch, entry = proxyEntry, nodeArgs = [] }) {
  return {
    name,
    kind: 'proxy',
    async start(upstream) {
      const instanceDir = path.join(tempDir, `${name}-${++instanceCounter}`);
      const port = await freePort();
      const configFile = writeProxyConfig(defaults, { instanceDir, port, upstreamPort: upstream.port, clientKeySha256, onLayers, tls, patch });
      const logFile = path.join(instanceDir, 'proxy.log');
      const child = spawnTracked({
        command: process.execPath,
        args: [...nodeArgs, entry, 'serve', '--config', configFile],
        core: cores.target,
        logFile,
        cwd: instanceDir,
        env: { ...process.env, NODE_ENV: 'production' },
      });
      try {
        await waitForPort(port, child, 20_000);
      } catch (error) {
        await stopProcess(child);
        throw new Error(`${name} did not start: ${error instanceof Error ? error.message : error}\n${logTail(logFile)}`);
      }
      return {
        name,
        pid: /** @type {number} */ (child.pid),
        baseUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
        logFile,
        auditFile: path.join(instanceDir, 'audit.jsonl'),
        usageFile: path.join(instanceDir, 'usage.jsonl'),
        stop: () => stopProcess(child, 5000),
      };
    },
  };
}
