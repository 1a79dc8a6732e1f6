/**
 * Finds out which security layers the proxy has today, so the benchmark keeps working while they
 * land one by one: a layer's keys must pass `config check` ("not built yet" otherwise), and a probe
 * request that the layer should reject shows whether it is enforced or only accepted in the config.
 */
import { readFileSync, statSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { layers } from './proxy-layers.mjs';
import { checkProxyConfig, proxyTarget, writeProxyConfig } from './targets.mjs';
import { sendOnce } from './http-check.mjs';
import { bodies, endpointPaths } from './scenarios.mjs';

/**
 * @typedef {object} LayerStatus
 * @property {string} name
 * @property {string} what
 * @property {'enforced' | 'accepted (no probe)' | 'accepted, not enforced' | 'not built yet'} status
 * @property {boolean} offSwitch
 * @property {string} [note]
 *
 * @typedef {object} ProxyDiscovery
 * @property {boolean} available
 * @property {string} [reason]                 why the proxy target is skipped
 * @property {LayerStatus[]} layers
 * @property {import('./proxy-layers.mjs').Layer[]} onLayers     every layer the schema accepts
 * @property {import('./proxy-layers.mjs').Layer[]} offVariants  layers worth a "proxy-no-<layer>" run
 * @property {string} [tlsStatus]             'accepted', or why the TLS variant is not run
 */

const fileSize = (file) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};
/**
 * Whether the audit file holds the record of a routed request (not only the server's start): the
 * audit layer records per request, so that is what "enforced" means for it. @param {string} file
 */
const hasRequestRecord = (file) => {
  try {
    return readFileSync(file, 'utf8').includes('"event_type":"provider-request"');
  } catch {
    return false;
  }
};
/** The "  - path: message" lines of a config check, else its first line. @param {string} output */
const problemLines = (output) =>
  output
    .split('\n')
    .filter((line) => line.trim().startsWith('- '))
    .map((line) => line.trim().slice(2))
    .join('; ') || output.split('\n')[0];
/**
 * The metrics layer's probe: the metrics listener's URL from the proxy's log (`metrics_url`), then
 * the answered requests it counts (the sanity request must be among them). 0 when any step fails.
 * @param {string} logFile
 */
async function scrapedRequestCount(logFile) {
  try {
    const match = /"metrics_url":"([^"]+)"/.exec(readFileSync(logFile, 'utf8'));
    if (!match) return 0;
    const text = await (await fetch(match[1], { signal: AbortSignal.timeout(5_000) })).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('cliproxy_requests_total{') && line.includes('status_class="2xx"'))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  } catch {
    return 0;
  }
}
const pause = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * @param {object} options
 * @param {any} options.defaults
 * @param {string} options.tempDir
 * @param {string} options.clientKey
 * @param {string} options.clientKeySha256
 * @param {number} options.upstreamPort
 * @param {{ certFile: string, keyFile: string } | undefined} options.tls  certificate for the TLS check
 * @param {(line: string) => void} options.log
 * @returns {Promise<ProxyDiscovery>}
 */
export async function discoverProxy({ defaults, tempDir, clientKey, clientKeySha256, upstreamPort, tls, log }) {
  const checkDir = path.join(tempDir, 'config-check');
  mkdirSync(checkDir, { recursive: true });
  const configFor = (name, onLayers, withTls) =>
    writeProxyConfig(defaults, { instanceDir: path.join(checkDir, name), port: 8317, upstreamPort, clientKeySha256, onLayers, tls: withTls });

  const base = await checkProxyConfig(configFor('base', []));
  if (!base.ok) return { available: false, reason: `config check rejects the base config: ${base.output}`, layers: [], onLayers: [], offVariants: [] };

  /** @type {LayerStatus[]} */
  const statuses = [];
  const accepted = [];
  const auth = layers.find((layer) => layer.name === 'client-auth');
  for (const layer of layers) {
    // Per-key settings decorate key entries, which only exist with client auth on.
    const check = await checkProxyConfig(configFor(`layer-${layer.name}`, layer === auth ? [layer] : [auth, layer]));
    const status = { name: layer.name, what: layer.what, offSwitch: layer.offSwitch, status: check.ok ? 'accepted (no probe)' : 'not built yet' };
    if (!check.ok) status.note = layer.guessedKey ? 'config key guessed; schema rejects it' : `config check: ${problemLines(check.output)}`;
    else accepted.push(layer);
    statuses.push(status);
  }
  const allOn = await checkProxyConfig(configFor('all-on', accepted));
  if (!allOn.ok) return { available: false, reason: `config check rejects the all-layers config: ${allOn.output}`, layers: statuses, onLayers: [], offVariants: [] };

  let tlsStatus = 'no certificate (openssl missing?)';
  if (tls) {
    const tlsCheck = await checkProxyConfig(configFor('all-on-tls', accepted, tls));
    tlsStatus = tlsCheck.ok ? 'accepted' : `not built yet (${problemLines(tlsCheck.output)})`;
  }

  const common = { defaults, tempDir, clientKeySha256 };
  const url = (running) => running.baseUrl + endpointPaths.openai;
  const authHeaders = { authorization: `Bearer ${clientKey}` };
  const body = JSON.stringify(bodies['openai-chat']);

  // One all-on instance: it must serve a plain request, and shows audit records and log lines.
  let running;
  try {
    running = await proxyTarget({ name: 'probe-all-on', onLayers: accepted, ...common }).start({ port: upstreamPort, stubArgs: [] });
  } catch (error) {
    return { available: false, reason: String(error instanceof Error ? error.message : error), layers: statuses, onLayers: [], offVariants: [] };
  }
  try {
    const logBefore = fileSize(running.logFile);
    const sanity = await sendOnce({ url: url(running), headers: authHeaders, body });
    if (sanity.status !== 200 || !sanity.text.includes('"choices"')) {
      return {
        available: false,
        reason: `the all-layers proxy answered ${sanity.status} to a plain chat request: ${sanity.text.slice(0, 300)}`,
        layers: statuses,
        onLayers: [],
        offVariants: [],
      };
    }
    await pause(300);
    for (const status of statuses) {
      const layer = layers.find((candidate) => candidate.name === status.name);
      if (status.status === 'not built yet' || !layer?.probe) continue;
      if (layer.probe.kind === 'audit-file') status.status = hasRequestRecord(running.auditFile) ? 'enforced' : 'accepted, not enforced';
      if (layer.probe.kind === 'log-grows') status.status = fileSize(running.logFile) > logBefore ? 'enforced' : 'accepted, not enforced';
      if (layer.probe.kind === 'metrics-scrape') status.status = (await scrapedRequestCount(running.logFile)) > 0 ? 'enforced' : 'accepted, not enforced';
      if (layer.probe.kind === 'header') status.status = sanity.headers?.[layer.probe.header ?? ''] !== undefined ? 'enforced' : 'accepted, not enforced';
    }
  } finally {
    await running.stop();
  }

  // Layers enforced by the config check itself (the egress guard refuses a loopback base_url without the flag).
  for (const status of statuses) {
    const layer = layers.find((candidate) => candidate.name === status.name);
    if (status.status === 'not built yet' || layer?.probe?.kind !== 'config-refused') continue;
    const file = writeProxyConfig(defaults, {
      instanceDir: path.join(checkDir, `probe-${layer.name}`),
      port: 8317,
      upstreamPort,
      clientKeySha256,
      onLayers: accepted,
      patch: layer.probe.patch,
    });
    const check = await checkProxyConfig(file);
    status.status = check.ok ? 'accepted, not enforced' : 'enforced';
    status.note = check.ok
      ? 'config check accepted the config the layer should refuse'
      : 'a loopback base_url without allow_private_network refused at config check; the measured proxies set the flag for the loopback stub (the check is per new upstream connection, no per-request cost)';
  }

  for (const status of statuses) {
    const layer = layers.find((candidate) => candidate.name === status.name);
    if (status.status === 'not built yet' || layer?.probe?.kind !== 'status') continue;
    const probe = layer.probe;
    log(`  probing ${layer.name}`);
    let probeTarget;
    try {
      probeTarget = await proxyTarget({ name: `probe-${layer.name}`, onLayers: accepted, patch: probe.patch, ...common }).start({ port: upstreamPort, stubArgs: [] });
      const seen = [];
      for (let attempt = 0; attempt < (probe.repeat ?? 1); attempt++) {
        const answer = await sendOnce({ url: url(probeTarget), headers: probe.omitAuth ? {} : authHeaders, body });
        seen.push(answer.status);
      }
      const enforced = seen.some((code) => probe.expect?.includes(code));
      status.status = enforced ? 'enforced' : 'accepted, not enforced';
      if (!enforced) status.note = `probe expected ${probe.expect?.join('/')}, got ${[...new Set(seen)].join(',')}`;
    } catch (error) {
      status.status = 'accepted, not enforced';
      status.note = `probe failed: ${String(error instanceof Error ? error.message : error).split('\n')[0]}`;
    } finally {
      await probeTarget?.stop();
    }
  }

  const offVariants = accepted.filter((layer) => {
    const status = statuses.find((candidate) => candidate.name === layer.name);
    return layer.offSwitch && status?.status !== 'accepted, not enforced';
  });
  return { available: true, layers: statuses, onLayers: accepted, offVariants, tlsStatus };
}
