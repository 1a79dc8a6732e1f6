import { createHash } from 'node:crypto';
import { geminiEndpointProblems } from './validate-gemini.js';
import { accessSync, constants as fsConstants } from 'node:fs';
import { isPlaceholderSecret, isPlaceholderSha256 } from './placeholders.js';
import { formatConfigPath, isPlainRecord, type ConfigPathSegments } from './config-path.js';
import { ConfigSchema } from './schema.js';
import { cipherSuiteProblem } from './tls-cipher-suites.js';
import { checkIpListOverlap, isIpOrCidr } from './validate-ip-lists.js';
import { urlHostProblem } from '../egress/egress-guard.js';
import { alertRuleProblems } from './alert-rules.js';

/** Shortest plain client key accepted: 32 characters, about the entropy of a 24-byte random key. */
export const minimumPlainClientKeyLength = 32;

export interface SemanticResult {
  readonly problems: string[];
  readonly warnings: string[];
}

/**
 * Checks a schema cannot express. Written over `unknown` on purpose: they run even when the schema
 * check failed, so one run reports an unknown key, a bad CIDR and a placeholder key together.
 * Expects paths already resolved against the config's directory (TLS files are checked on disk).
 */
export function semanticChecks(config: unknown): SemanticResult {
  const result: SemanticResult = { problems: [], warnings: [] };
  if (!isPlainRecord(config)) return result;
  const server = recordAt(config, 'server');
  checkAddressList(result, server?.['trusted_proxies'], ['server', 'trusted_proxies']);
  const security = recordAt(server, 'security');
  checkAddressList(result, recordAt(security, 'ip_allowlist')?.['allowed_ips'], ['server', 'security', 'ip_allowlist', 'allowed_ips']);
  checkAddressList(result, security?.['ip_denylist'], ['server', 'security', 'ip_denylist']);
  const overlap = checkIpListOverlap(security?.['ip_allowlist'], security?.['ip_denylist']);
  result.problems.push(...overlap.problems);
  result.warnings.push(...overlap.warnings);
  checkTls(result, recordAt(server, 'tls'));
  checkCorsOrigins(result, recordAt(security, 'cors')?.['allowed_origins']);
  checkExposure(result, server);
  checkClientKeys(result, recordAt(config, 'auth')?.['api_keys'], ['auth', 'api_keys']);
  checkManagement(result, recordAt(config, 'management'), recordAt(server, 'tls'));
  checkProviders(result, config['providers']);
  result.problems.push(...alertRuleProblems(config['alerts'], config['alerting']));
  checkMetricsListener(result, recordAt(recordAt(config, 'metrics'), 'listener'));
  return result;
}

function checkAddressList(result: SemanticResult, list: unknown, path: ConfigPathSegments): void {
  if (!Array.isArray(list)) return;
  list.forEach((entry: unknown, index) => {
    if (typeof entry === 'string' && !isIpOrCidr(entry)) {
      result.problems.push(`${formatConfigPath([...path, index])}: '${entry}' is not an IP address or CIDR range`);
    }
  });
}

function checkTls(result: SemanticResult, tls: Record<string, unknown> | undefined): void {
  // Suites are checked even with TLS off: a list that would be refused on the day TLS is turned on
  // is wrong now, and `config check` should say so before that day.
  const tls12 = checkCipherSuites(result, tls?.['cipher_suites'], 'tls12');
  const tls13 = checkCipherSuites(result, tls?.['cipher_suites_tls13'], 'tls13');
  const minimum = tls?.['min_version'];
  if (minimum === '1.0' || minimum === '1.1' || minimum === 1.1 || minimum === 1 || minimum === 1.0) {
    result.problems.push(`server.tls.min_version: TLS ${String(minimum)} is refused (BEAST, POODLE-era ciphers, SHA-1 handshakes); use "1.2" or "1.3"`);
  }
  if (minimum === '1.3' && tls13 === 0) result.problems.push('server.tls.cipher_suites_tls13: empty while min_version is "1.3": no suite could be negotiated');
  if (minimum === '1.2' && tls12 === 0) result.problems.push('server.tls.cipher_suites: empty while min_version is "1.2": set min_version "1.3" to serve TLS 1.3 only');
  if (tls?.['management_client_ca_file'] !== undefined && tls['enabled'] !== true) {
    result.problems.push('server.tls.management_client_ca_file: set while server.tls.enabled is false; a client certificate exists only in a TLS handshake, so the management API would be reachable without one. Enable TLS or remove the key');
  }
  if (tls?.['enabled'] !== true) return;
  for (const key of ['cert_file', 'key_file', 'management_client_ca_file']) {
    const file = tls[key];
    if (typeof file !== 'string') continue;
    try {
      accessSync(file, fsConstants.R_OK);
    } catch {
      result.problems.push(`server.tls.${key}: cannot read ${file} (TLS is enabled)`);
    }
  }
}

/** Reports every refused suite by its path and name; returns how many entries the list has. */
function checkCipherSuites(result: SemanticResult, list: unknown, which: 'tls12' | 'tls13'): number {
  if (!Array.isArray(list)) return -1;
  const key = which === 'tls12' ? 'cipher_suites' : 'cipher_suites_tls13';
  list.forEach((entry: unknown, index) => {
    if (typeof entry !== 'string') return;
    const problem = cipherSuiteProblem(entry, which);
    if (problem !== undefined) result.problems.push(`${formatConfigPath(['server', 'tls', key, index])}: '${entry}' ${problem}`);
  });
  return list.length;
}

/**
 * CORS origins are compared exactly with the browser's `Origin` header, so each must be an origin
 * as browsers write it (`https://app.example.com`, a port when not the default, no path, no slash).
 * A wildcard is refused: the API would answer any page that holds (or phishes) a key.
 */
function checkCorsOrigins(result: SemanticResult, origins: unknown): void {
  if (!Array.isArray(origins)) return;
  origins.forEach((origin: unknown, index) => {
    if (typeof origin !== 'string') return;
    const where = formatConfigPath(['server', 'security', 'cors', 'allowed_origins', index]);
    if (origin.includes('*')) {
      result.problems.push(`${where}: '${origin}' is a wildcard; list each origin (https://app.example.com): a wildcard lets any web page call the API with a key it holds`);
      return;
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.origin !== origin) {
      result.problems.push(`${where}: '${origin}' is not an origin; write it as the browser sends it: scheme://host[:port], no path or trailing slash`);
    }
  });
}

function checkExposure(result: SemanticResult, server: Record<string, unknown> | undefined): void {
  const host = server?.['host'];
  if (typeof host !== 'string' || isLoopbackHost(host)) return;
  if (recordAt(server, 'tls')?.['enabled'] !== true) {
    result.warnings.push(`server.host: listening on ${host} without TLS; client keys cross the network in clear`);
  }
}

/** The key-less metrics listener answers anyone who reaches it: loopback only, by construction. */
function checkMetricsListener(result: SemanticResult, listener: Record<string, unknown> | undefined): void {
  const host = listener?.['host'];
  if (listener?.['enabled'] !== true || typeof host !== 'string' || isLoopbackHost(host)) return;
  result.problems.push(`metrics.listener.host: ${host} is not a loopback address; the metrics listener has no key, so it binds loopback only (scrape GET /metrics on the main listener with a management key instead)`);
}

/** A bind address that only this host reaches (`serve` and `doctor` agree on it). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function checkClientKeys(result: SemanticResult, keys: unknown, path: ConfigPathSegments): void {
  if (!Array.isArray(keys)) return;
  const seenIds = new Map<string, number>();
  const seenDigests = new Map<string, number>();
  keys.forEach((entry: unknown, index) => {
    if (!isPlainRecord(entry)) return;
    const here = [...path, index];
    noteDuplicate(result, seenIds, entry['id'], here, path, 'id');
    const digest = entry['key_sha256'];
    const plain = entry['key'];
    if (typeof digest === 'string') {
      if (isPlaceholderSha256(digest)) result.problems.push(`${formatConfigPath([...here, 'key_sha256'])}: is the SHA-256 of a documentation placeholder`);
      noteDuplicate(result, seenDigests, digest.toLowerCase(), here, path, 'key');
    }
    if (typeof plain === 'string') {
      const where = formatConfigPath([...here, 'key']);
      if (isPlaceholderSecret(plain)) result.problems.push(`${where}: is a documentation placeholder, generate one with 'cliproxyapi keys create'`);
      else if (plain.length < minimumPlainClientKeyLength) result.problems.push(`${where}: must be at least ${minimumPlainClientKeyLength} characters`);
      result.warnings.push(`${where}: plain client key in the config file; prefer key_sha256 (hex SHA-256 of the key)`);
      noteDuplicate(result, seenDigests, createHash('sha256').update(plain, 'utf8').digest('hex'), here, path, 'key');
    }
  });
}

/**
 * `allow_remote` without TLS would send management keys (and TOTP codes) in clear across a network:
 * refused. `viewer`, the seed's role name, is read as `auditor` with a warning.
 */
function checkManagement(result: SemanticResult, management: Record<string, unknown> | undefined, tls: Record<string, unknown> | undefined): void {
  if (management?.['allow_remote'] === true && tls?.['enabled'] !== true) {
    result.problems.push('management.allow_remote: requires server.tls.enabled: true (management keys must not cross a network in clear); keep it false to reach the API from loopback only');
  }
  const keys = management?.['keys'];
  if (!Array.isArray(keys)) return;
  keys.forEach((entry: unknown, index) => {
    if (isPlainRecord(entry) && entry['role'] === 'viewer') {
      result.warnings.push(`${formatConfigPath(['management', 'keys', index, 'role'])}: 'viewer' is read as 'auditor' (read-only); write 'auditor'`);
    }
  });
  checkManagementKeys(result, keys);
}

function checkManagementKeys(result: SemanticResult, keys: unknown[]): void {
  const seenIds = new Map<string, number>();
  keys.forEach((entry: unknown, index) => {
    if (!isPlainRecord(entry)) return;
    const here = ['management', 'keys', index];
    noteDuplicate(result, seenIds, entry['id'], here, ['management', 'keys'], 'id');
    const digest = entry['key_sha256'];
    if (typeof digest === 'string' && isPlaceholderSha256(digest)) {
      result.problems.push(`${formatConfigPath([...here, 'key_sha256'])}: is the SHA-256 of a documentation placeholder`);
    }
  });
}

function noteDuplicate(
  result: SemanticResult,
  seen: Map<string, number>,
  value: unknown,
  here: ConfigPathSegments,
  listPath: ConfigPathSegments,
  what: 'id' | 'key',
): void {
  if (typeof value !== 'string') return;
  const index = here[here.length - 1] as number;
  const first = seen.get(value);
  if (first === undefined) {
    seen.set(value, index);
    return;
  }
  const firstPath = formatConfigPath([...listPath, first]);
  result.problems.push(
    what === 'id' ? `${formatConfigPath([...here, 'id'])}: duplicate id '${value}' (also ${firstPath})` : `${formatConfigPath(here)}: same key as ${firstPath}`,
  );
}

const providerNamePattern = new RegExp(Object.keys(ConfigSchema.properties.providers.patternProperties)[0] ?? '^$');

function checkProviders(result: SemanticResult, providers: unknown): void {
  if (!isPlainRecord(providers)) return;
  const modelOwners = new Map<string, string>();
  for (const [name, provider] of Object.entries(providers)) {
    // TypeBox records do not reject keys outside their pattern; this does.
    if (!providerNamePattern.test(name)) result.problems.push(`${formatConfigPath(['providers', name])}: provider name must match ${providerNamePattern.source}`);
    if (!isPlainRecord(provider)) continue;
    checkUpstreamKeys(result, name, provider['api_keys']);
    checkEgress(result, name, provider);
    result.problems.push(...geminiEndpointProblems(name, provider));
    const models = provider['models'];
    if (!Array.isArray(models)) continue;
    const providerNames = new Set<string>();
    models.forEach((model: unknown, index) => {
      if (!isPlainRecord(model)) return;
      const names = new Set([model['name'], model['alias']].filter((value): value is string => typeof value === 'string'));
      for (const modelName of names) {
        providerNames.add(modelName);
        const here = formatConfigPath(['providers', name, 'models', index]);
        const owner = modelOwners.get(modelName);
        if (owner === undefined) modelOwners.set(modelName, here);
        else result.problems.push(`${here}: model name or alias '${modelName}' is already used by ${owner}`);
      }
    });
    checkKeyModels(result, name, provider['api_keys'], providerNames, modelOwners);
  }
}

/**
 * The egress guard's config half: an IP literal that is not a public address, in `base_url` or
 * `oauth.token_url` or `oauth.authorize_url` (a login opens it), is refused here (a host name is checked at each connect, egress/egress-guard.ts).
 */
function checkEgress(result: SemanticResult, providerName: string, provider: Record<string, unknown>): void {
  if (provider['allow_private_network'] === true) return;
  const urls: [ConfigPathSegments, unknown][] = [
    [['providers', providerName, 'base_url'], provider['base_url']],
    [['providers', providerName, 'oauth', 'token_url'], recordAt(provider, 'oauth')?.['token_url']],
    [['providers', providerName, 'oauth', 'authorize_url'], recordAt(provider, 'oauth')?.['authorize_url']],
  ];
  for (const [path, url] of urls) {
    const problem = typeof url === 'string' ? urlHostProblem(url) : undefined;
    if (problem !== undefined) {
      result.problems.push(`${formatConfigPath(path)}: ${problem}; the egress guard refuses it unless ${formatConfigPath(['providers', providerName, 'allow_private_network'])} is true`);
    }
  }
}

/**
 * Names and aliases declared by upstream keys (`api_keys[].models`): one may repeat across the keys
 * of the same provider (several keys serve it) but must lead to the same name everywhere, and may
 * not be used by another provider; a provider-level name needs no key entry (every key serves it).
 */
function checkKeyModels(result: SemanticResult, providerName: string, keys: unknown, providerNames: ReadonlySet<string>, modelOwners: Map<string, string>): void {
  if (!Array.isArray(keys)) return;
  const targets = new Map<string, string>();
  keys.forEach((key: unknown, keyIndex) => {
    const models = isPlainRecord(key) ? key['models'] : undefined;
    if (!Array.isArray(models)) return;
    models.forEach((model: unknown, index) => {
      if (!isPlainRecord(model) || typeof model['name'] !== 'string') return;
      const here = formatConfigPath(['providers', providerName, 'api_keys', keyIndex, 'models', index]);
      for (const id of [model['name'], model['alias']].filter((value): value is string => typeof value === 'string')) {
        if (providerNames.has(id)) continue;
        const target = targets.get(id);
        if (target !== undefined && target !== model['name']) result.problems.push(`${here}: '${id}' leads to '${model['name']}' here but to '${target}' on another key`);
        targets.set(id, model['name']);
        const owner = modelOwners.get(id);
        if (owner === undefined) modelOwners.set(id, here);
        else if (!owner.startsWith(formatConfigPath(['providers', providerName, 'api_keys']))) result.problems.push(`${here}: model name or alias '${id}' is already used by ${owner}`);
      }
    });
  });
}

function checkUpstreamKeys(result: SemanticResult, providerName: string, keys: unknown): void {
  if (!Array.isArray(keys)) return;
  keys.forEach((entry: unknown, index) => {
    const key = isPlainRecord(entry) ? entry['key'] : entry;
    if (typeof key === 'string' && isPlaceholderSecret(key)) {
      result.problems.push(`${formatConfigPath(['providers', providerName, 'api_keys', index])}: is a documentation placeholder, not an upstream key`);
    }
  });
}

function recordAt(parent: Record<string, unknown> | undefined, key: string): Record<string, unknown> | undefined {
  const value = parent?.[key];
  return isPlainRecord(value) ? value : undefined;
}

/**
 * Providers with no upstream credential at all: an empty `api_keys` AND no credential stored in
 * auth.dir for that provider. Not part of `semanticChecks`: whether stored credentials serve a
 * provider is known only once the store is open (at start and on each reload), and a provider
 * served by an imported OAuth login must not be warned about.
 */
export function providersWithoutCredentials(
  providers: Readonly<Record<string, { readonly api_keys: readonly unknown[] }>>,
  storedCountOf: (providerName: string) => number,
): string[] {
  return Object.entries(providers)
    .filter(([name, provider]) => provider.api_keys.length === 0 && storedCountOf(name) === 0)
    .map(
      ([name]) =>
        `${formatConfigPath(['providers', name])}: no upstream credential (api_keys is empty and auth.dir holds none for it); every request to this provider fails with GW_NO_CREDENTIAL_AVAILABLE until a key is added or 'cliproxyapi creds import' stores one`,
    );
}
