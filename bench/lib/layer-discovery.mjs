/**
 * Finds out which security layers the proxy has today, so the benchmark keeps working while they
 * land one by one: a layer's keys must pass `config check` ("not built yet" otherwise), and a probe
 * request that the layer should reject shows whether it is enforced or only accepted in the config.
 */
import { readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
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
 * @property {string} [noOffSwitchReason]
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
 * The `provider-request` records in an audit file (0 when it cannot be read): the audit layer
 * records every routed request, so "enforced" means one record per request sent. @param {string} file
 */
export const requestRecordCount = (file) => {
  try {
    return readFileSync(file, 'utf8').split('"event_type":"provider-request"').length - 1;
  } catch {
    return 0;
  }
};
/**
 * What a measured proxy did with the metrics layer during its run: the requests (any status) its
 * metrics listener counts, scraped before the process stops; 0 when the layer is off (no listener).
 * @param {{ logFile?: string }} running
 */
export async function scrapeLayerEvidence(running) {
  return { metricsRequests: running.logFile ? await scrapedRequestCount(running.logFile, { anyStatus: true }) : 0 };
}

/**
 * The `provider-request` records a measured proxy wrote, in its live audit file and any rotated by
 * size; counted after the process stopped (the writer flushes at shutdown); 0 with the layer off.
 * @param {{ auditFile?: string }} running
 */
export function auditRecordsOf(running) {
  if (!running.auditFile) return 0;
  const directory = path.dirname(running.auditFile);
  let files = [];
  try {
    files = readdirSync(directory).filter((name) => /^audit(\.\d{12})?\.jsonl$/.test(name));
  } catch {
    return 0;
  }
  return files.reduce((total, name) => total + requestRecordCount(path.join(directory, name)), 0);
}

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
async function scrapedRequestCount(logFile, { anyStatus = false } = {}) {
  try {
    const match = /"metrics_url":"([^"]+)"/.exec(readFileSync(logFile, 'utf8'));
    if (!match) return 0;
    const text = await (await fetch(match[1], { signal: AbortSignal.timeout(5_000) })).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('cliproxy_requests_total{') && (anyStatus || line.includes('status_class="2xx"')))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  } catch {
    return 0;
  }
}
const pause = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));
/** Plain chat requests the all-layers probe instance serves (the sanity request included). */
const probeRequests = 5;

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
    const status = { name: layer.name, what: layer.what, offSwitch: layer.offSwitch, noOffSwitchReason: layer.noOffSwitchReason, status: check.ok ? 'accepted (no probe)' : 'not built yet' };
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
    // More plain requests, so the audit and metrics probes can show one record / one count per request.
    for (let extra = 1; extra < probeRequests; extra++) {
      const answer = await sendOnce({ url: url(running), headers: authHeaders, body });
      if (answer.status !== 200) return { available: false, reason: `the all-layers proxy answered ${answer.status} to plain chat request ${extra + 1}`, layers: statuses, onLayers: [], offVariants: [] };
    }
    // The audit log flushes 100 ms after the first queued record; give it a few intervals.
    await pause(500);
    for (const status of statuses) {
      const layer = layers.find((candidate) => candidate.name === status.name);
      if (status.status === 'not built yet' || !layer?.probe) continue;
      if (layer.probe.kind === 'audit-file') {
        const records = requestRecordCount(running.auditFile);
        status.status = records === probeRequests ? 'enforced' : 'accepted, not enforced';
        status.note = `${records} provider-request record(s) for ${probeRequests} requests`;
      }
      if (layer.probe.kind === 'usage-file') status.status = fileSize(running.usageFile) > 0 ? 'enforced' : 'accepted, not enforced';
      if (layer.probe.kind === 'log-grows') status.status = fileSize(running.logFile) > logBefore ? 'enforced' : 'accepted, not enforced';
      if (layer.probe.kind === 'metrics-scrape') {
        const counted = await scrapedRequestCount(running.logFile);
        status.status = counted === probeRequests ? 'enforced' : 'accepted, not enforced';
        status.note = `the scrape counted ${counted} answered request(s) of ${probeRequests}`;
      }
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
