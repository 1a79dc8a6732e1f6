import { isLoopbackHost } from '../../config/validate-semantics.js';
import { fail, pass, skipWithoutConfig, warn, type CheckResult, type DoctorContext } from '../check-result.js';
import { configFindingsFor } from '../config-findings.js';

/**
 * Network-layer settings: the per-IP rate limit (`rate-limit`), an allowlist when the proxy is
 * reachable beyond loopback (`ip-allowlist`), the allow and deny lists agreeing (`ip-lists`: the
 * loader's overlap rules), and which upstreams may reach private addresses (`providers`).
 */

export function checkRateLimit(context: DoctorContext): CheckResult {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('rate-limit');
  const { problems } = configFindingsFor('rate-limit', context.inspection);
  if (problems.length > 0) return fail('rate-limit', 'the rate limit settings are refused', 'correct the settings below', problems);
  const limit = config.server.security.rate_limit;
  if (!limit.enabled) {
    return fail('rate-limit', 'the per-client-IP rate limit is off: one client can exhaust the upstream quota and the CPU', 'set server.security.rate_limit.enabled: true (default 10 requests/s, burst 20)');
  }
  return pass('rate-limit', `per client IP: ${limit.requests_per_second} request(s)/s, burst ${limit.burst}`);
}

export function checkIpAllowlist(context: DoctorContext): CheckResult {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('ip-allowlist');
  const { host, security } = config.server;
  const allowlist = security.ip_allowlist;
  if (allowlist.enabled && allowlist.allowed_ips.length > 0) return pass('ip-allowlist', `only ${allowlist.allowed_ips.length} allowed address range(s) may connect`);
  if (isLoopbackHost(host)) return pass('ip-allowlist', `not needed: listening on loopback only (${host})`);
  return warn('ip-allowlist', `listening on ${host} and every address may connect`, 'enable server.security.ip_allowlist with the ranges your clients come from (and set server.trusted_proxies if a load balancer forwards them)');
}

export function checkIpLists(context: DoctorContext): CheckResult {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('ip-lists');
  const findings = configFindingsFor('ip-lists', context.inspection);
  if (findings.problems.length > 0) return fail('ip-lists', 'the IP allow and deny lists contradict each other or are malformed', 'correct the entries below', findings.problems);
  if (findings.warnings.length > 0) return warn('ip-lists', 'some allowlist entries can never be admitted', 'remove them from one of the two lists', findings.warnings);
  return pass('ip-lists', `denylist: ${config.server.security.ip_denylist.length} entr(ies), consistent with the allowlist`);
}

export function checkProviders(context: DoctorContext): CheckResult {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('providers');
  const findings = configFindingsFor('providers', context.inspection);
  if (findings.problems.length > 0) return fail('providers', `the provider settings are refused (${findings.problems.length} problem(s))`, 'correct the settings below', findings.problems);
  const privateReach = Object.entries(config.providers).filter(([, provider]) => provider.allow_private_network === true).map(([name]) => `providers.${name}`);
  if (config.alerting.webhook.allow_private_network) privateReach.push('alerting.webhook');
  const count = Object.keys(config.providers).length;
  if (privateReach.length > 0) {
    return warn('providers', `allowed to reach private and metadata addresses: ${privateReach.join(', ')}`, 'keep allow_private_network only for an upstream you run on your own network (a local model server)', privateReach);
  }
  return pass('providers', `${count} provider(s); none may reach private or metadata addresses`);
}
