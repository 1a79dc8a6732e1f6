/**
 * The proxy's config for the benchmark, and its security layers as switches.
 *
 * The config starts from the proxy's own compiled defaults (dist/config/defaults.js), so it is
 * complete whatever merge rules the loader has, and each layer then sets its keys. A layer whose keys
 * the current schema rejects (`config check` fails) is reported "not built yet" and left out; a layer
 * that is accepted but does not reject its probe request is reported "configured, not enforced".
 * When a layer lands under a different key than guessed here, edit only its `apply`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { benchAnthropicModel, benchCodexModel, benchGeminiModel, benchModel } from './scenarios.mjs';

/** Obviously fake upstream key: the stub ignores it, but the proxy's config requires one. */
export const upstreamKey = 'bench-upstream-key-0001';

/**
 * A fresh client key per run (never a real-looking secret), with the hash the config stores.
 * @returns {{ clientKey: string, clientKeySha256: string }}
 */
export function makeClientKey() {
  const clientKey = `bench-client-key-${randomBytes(8).toString('hex')}`;
  return { clientKey, clientKeySha256: createHash('sha256').update(clientKey).digest('hex') };
}

/** Huge limits: the layer runs its full bookkeeping on every request but never rejects one. */
const neverLimits = { enabled: true, requests_per_second: 1_000_000, burst: 1_000_000 };

/**
 * @typedef {object} LayerContext
 * @property {string} instanceDir  per-process directory (audit file, data dir)
 * @property {string} clientKeySha256
 *
 * @typedef {object} LayerProbe
 * @property {'status' | 'audit-file' | 'usage-file' | 'log-grows' | 'header' | 'config-refused' | 'metrics-scrape'} kind  'config-refused': `config check` must refuse the patched config; 'metrics-scrape': the listener's URL from the log, its request count must have moved
 * @property {string} [header]                 for 'header': the response header the layer adds
 * @property {(config: any) => void} [patch]   makes the layer reject the probe request
 * @property {boolean} [omitAuth]              send the probe without a client key
 * @property {Record<string, unknown>} [bodyPatch]
 * @property {number} [repeat]                 requests to send; any one rejected counts
 * @property {number[]} [expect]               statuses that show the layer enforcing
 *
 * @typedef {object} Layer
 * @property {string} name
 * @property {string} what
 * @property {boolean} offSwitch               false: the schema has no way to turn it off
 * @property {string} [noOffSwitchReason]      why not, for the report (instead of "no off switch in the config")
 * @property {boolean} [guessedKey]            the key is a guess at a layer not in the schema yet
 * @property {(config: any, context: LayerContext, on: boolean) => void} apply
 * @property {LayerProbe} [probe]
 */

/** @type {Layer[]} */
export const layers = [
  {
    name: 'client-auth',
    what: 'client key auth (Bearer key checked against SHA-256 hashes)',
    // Client auth fails closed: with no key in auth.api_keys, `serve` generates one into
    // auth.client_keys_file at first start, and an empty key list refuses every request. A
    // "proxy-no-client-auth" variant can only answer 401, so none is run (it used to be, and was
    // skipped by its sanity check). Its cost is micro-measured instead (docs/benchmarks.md).
    offSwitch: false,
    noOffSwitchReason: 'fails closed: no key means every request is refused, so there is no auth-off proxy to compare with (a keep-alive connection re-checks its last key in constant time, no hash)',
    apply(config, context) {
      config.auth.api_keys = [{ id: 'bench', key_sha256: context.clientKeySha256 }];
    },
    probe: { kind: 'status', omitAuth: true, expect: [401] },
  },
  {
    name: 'ip-filter',
    what: 'IP allowlist (5 CIDRs incl. 127.0.0.0/8) and denylist (3 CIDRs)',
    offSwitch: true,
    apply(config, _context, on) {
      config.server.security.ip_allowlist = on
        ? { enabled: true, allowed_ips: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '::1/128'] }
        : { enabled: false, allowed_ips: [] };
      config.server.security.ip_denylist = on ? ['203.0.113.0/24', '198.51.100.0/24', '2001:db8::/32'] : [];
    },
    probe: {
      kind: 'status',
      patch(config) {
        config.server.security.ip_allowlist = { enabled: true, allowed_ips: ['10.0.0.0/8'] };
      },
      expect: [403],
    },
  },
  {
    name: 'ip-rate-limit',
    what: 'per-IP token bucket (limits set far above the load)',
    offSwitch: true,
    apply(config, _context, on) {
      config.server.security.rate_limit = on ? { ...neverLimits } : { ...neverLimits, enabled: false };
    },
    probe: {
      kind: 'status',
      patch(config) {
        config.server.security.rate_limit = { enabled: true, requests_per_second: 1, burst: 1 };
      },
      repeat: 5,
      expect: [429],
    },
  },
  {
    name: 'key-rate-limit',
    what: 'per-client-key RPM/TPM limits (limits set far above the load; docs/keys.md)',
    offSwitch: true,
    apply(config, _context, on) {
      // auth.api_keys[].rate_limit: the key's per-minute buckets, reserved and settled per request.
      if (!on) return;
      for (const key of config.auth.api_keys) key.rate_limit = { requests_per_minute: 1_000_000_000, tokens_per_minute: 1_000_000_000_000 };
    },
    probe: {
      kind: 'status',
      patch(config) {
        for (const key of config.auth.api_keys) key.rate_limit = { requests_per_minute: 1 };
      },
      repeat: 5,
      expect: [429],
    },
  },
  {
    name: 'key-scope',
    what: 'per-client-key model and provider allowlists, checked after routing (docs/keys.md)',
    offSwitch: true,
    apply(config, _context, on) {
      if (!on) return;
      // Every provider the scenarios route to (the Gemini and Anthropic upstreams too): a scope that
      // left one out would refuse that scenario's sanity check instead of measuring it.
      for (const key of config.auth.api_keys) {
        key.models = [benchModel, benchCodexModel, 'bench-*'];
        key.providers = Object.keys(config.providers);
      }
    },
    probe: {
      kind: 'status',
      patch(config) {
        for (const key of config.auth.api_keys) key.models = ['nothing-the-bench-asks-for-*'];
      },
      expect: [403],
    },
  },
  {
    name: 'provider-rate-limit',
    what: 'per-provider RPM/TPM limits (limits set far above the load)',
    offSwitch: true,
    apply(config, _context, on) {
      if (on) config.providers.stub.rate_limit = { requests_per_minute: 1_000_000_000, tokens_per_minute: 1_000_000_000_000 };
      else delete config.providers.stub.rate_limit;
    },
    probe: {
      kind: 'status',
      patch(config) {
        config.providers.stub.rate_limit = { requests_per_minute: 1 };
      },
      repeat: 5,
      expect: [429],
    },
  },
  {
    name: 'security-headers',
    what: 'security response headers on every answer (precomputed block, one hook)',
    offSwitch: true,
    apply(config, _context, on) {
      config.server.security.headers = { ...config.server.security.headers, enabled: on };
    },
    probe: { kind: 'header', header: 'x-content-type-options' },
  },
  {
    name: 'egress-guard',
    what: 'upstream addresses checked at each new connect: private, loopback, link-local and metadata refused',
    offSwitch: false,
    // The stub is on loopback, so every measured proxy runs with the provider's allow_private_network
    // (buildProxyConfig): the guard is per new upstream connection, pooled sockets pay nothing.
    apply() {},
    probe: {
      kind: 'config-refused',
      patch(config) {
        delete config.providers.stub.allow_private_network;
      },
    },
  },
  {
    name: 'validation',
    what: 'strict request schema + max_tokens cap',
    offSwitch: false,
    apply(config) {
      config.server.validation = { ...config.server.validation, max_tokens: 32_768 };
    },
    probe: {
      kind: 'status',
      patch(config) {
        config.server.validation = { ...config.server.validation, max_tokens: 8 };
      },
      expect: [400],
    },
  },
  {
    name: 'audit',
    what: 'hash-chained JSONL audit log, one record per request (batched, 100 ms flush)',
    offSwitch: true,
    apply(config, context, on) {
      // The schema's keys (docs/configuration.md#audit); the defaults for rotation and flushing.
      config.audit = { ...config.audit, enabled: on, file: path.join(context.instanceDir, 'audit.jsonl'), flush_interval_ms: 100, stdout: false };
    },
    // Enforced = one provider-request record per routed request the probe instance served.
    probe: { kind: 'audit-file' },
  },
  {
    name: 'usage',
    what: 'usage accounting per client key, provider, model and credential (batched appends, 100 ms flush; docs/keys.md#usage)',
    offSwitch: true,
    apply(config, context, on) {
      config.usage = { ...config.usage, enabled: on, file: path.join(context.instanceDir, 'usage.jsonl'), flush_interval_ms: 100 };
    },
    probe: { kind: 'usage-file' },
  },
  {
    name: 'access-log',
    what: 'one access log line per request (pino, to a file)',
    offSwitch: true,
    apply(config, _context, on) {
      config.logging = { ...config.logging, level: 'info', access_log: on };
    },
    probe: { kind: 'log-grows' },
  },
  {
    name: 'metrics',
    what: 'Prometheus metrics per request (latency histogram, status class, tokens, security counters)',
    offSwitch: true,
    apply(config, _context, on) {
      // The loopback listener (no key) on an ephemeral port lets the probe scrape without a management key.
      config.metrics = { ...config.metrics, enabled: on, listener: { enabled: on, host: '127.0.0.1', port: 0 } };
    },
    // Enforced = the scrape counts every answered request the probe instance served.
    probe: { kind: 'metrics-scrape' },
  },
];

/**
 * A complete config for one proxy process.
 * @param {any} defaults        the proxy's compiled defaultConfig
 * @param {object} options
 * @param {string} options.instanceDir
 * @param {number} options.port
 * @param {number} options.upstreamPort
 * @param {string} options.clientKeySha256
 * @param {Layer[]} options.onLayers        layers switched on (the others are applied "off")
 * @param {{ certFile: string, keyFile: string } | undefined} [options.tls]
 * @param {LayerProbe['patch']} [options.patch]
 */
export function buildProxyConfig(defaults, { instanceDir, port, upstreamPort, clientKeySha256, onLayers, tls, patch }) {
  mkdirSync(instanceDir, { recursive: true, mode: 0o700 });
  const config = structuredClone(defaults);
  config.server.host = '127.0.0.1';
  config.server.port = port;
  if (tls) config.server.tls = { ...config.server.tls, enabled: true, cert_file: tls.certFile, key_file: tls.keyFile };
  config.auth.dir = path.join(instanceDir, 'auths');
  config.auth.client_keys_file = path.join(instanceDir, 'client-keys.json');
  config.auth.encryption = { ...config.auth.encryption, key_file: path.join(instanceDir, 'encryption.key') };
  config.providers = {
    // The stub is on loopback: the egress guard needs the flag (docs/security/network.md#egress-guard).
    stub: { type: 'openai', base_url: `http://127.0.0.1:${upstreamPort}/v1`, api_keys: [upstreamKey], models: [{ name: benchModel }], allow_private_network: true },
  };
  // The same stub as a Responses upstream (its `/v1/responses`), for the responses-codex-* scenarios; see loadProxyDefaults.
  if (defaults.benchCodexProvider === true) {
    config.providers.codex = { type: 'codex', base_url: `http://127.0.0.1:${upstreamPort}/v1`, api_keys: [upstreamKey], models: [{ name: benchCodexModel }], allow_private_network: true };
  }
  // The same stub as a Gemini API upstream and as an Anthropic upstream, for the gemini-* and chained scenarios.
  if (defaults.benchGeminiProvider === true) {
    config.providers.gemini = { type: 'gemini', base_url: `http://127.0.0.1:${upstreamPort}/v1beta`, api_keys: [upstreamKey], models: [{ name: benchGeminiModel }], allow_private_network: true };
    config.providers.claude = { type: 'anthropic', base_url: `http://127.0.0.1:${upstreamPort}`, api_keys: [upstreamKey], models: [{ name: benchAnthropicModel }], allow_private_network: true };
  }
  if (config.management) config.management = { ...config.management, enabled: false };
  // Every load generator connects from 127.0.0.1: the per-IP connection cap (default 256) would close
  // most of slow-streams-1000's sockets at accept. The cap's own cost is per connection, not per request.
  if ('max_connections_per_ip' in config.server) config.server.max_connections_per_ip = 0;
  const context = { instanceDir, clientKeySha256 };
  // Auth first: later layers (per-key limits) decorate the key entries it creates.
  for (const layer of layers) layer.apply(config, context, onLayers.includes(layer));
  patch?.(config);
  return config;
}
