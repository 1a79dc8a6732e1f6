import type { ConfigInspection } from '../config/load.js';

/**
 * Which check reports a config problem or warning, by the config path the line starts with
 * (`auth.api_keys[0].key: is a documentation placeholder…`). The loader's own checks stay the one
 * implementation; the doctor only files each line under the check an operator looks for. A line no
 * route claims stays with the `config` check, so nothing the loader says is lost.
 */
const routes: readonly (readonly [prefix: string, checkId: string])[] = [
  ['server.tls', 'tls'],
  ['server.host', 'tls'],
  ['auth.api_keys', 'client-keys'],
  ['auth.client_keys_file', 'client-keys'],
  ['auth.encryption', 'encryption'],
  ['management', 'management'],
  ['server.security.rate_limit', 'rate-limit'],
  ['server.security.ip_allowlist', 'ip-lists'],
  ['server.security.ip_denylist', 'ip-lists'],
  ['providers', 'providers'],
  ['audit', 'audit'],
  ['alerts', 'alerts'],
  ['alerting', 'alerts'],
];

/** `prefix` followed by the end of a path segment: `management` claims `management.keys[0]`, not `management_x`. */
function startsWithPath(line: string, prefix: string): boolean {
  if (!line.startsWith(prefix)) return false;
  const next = line.charAt(prefix.length);
  return next === '.' || next === '[' || next === ':' || next === ' ';
}

export function checkOfConfigLine(line: string): string {
  return routes.find(([prefix]) => startsWithPath(line, prefix))?.[1] ?? 'config';
}

export interface ConfigFindings {
  problems: string[];
  warnings: string[];
}

/** The loader's problems and warnings that belong to check `checkId`. */
export function configFindingsFor(checkId: string, inspection: ConfigInspection): ConfigFindings {
  return {
    problems: inspection.problems.filter((line) => checkOfConfigLine(line) === checkId),
    warnings: inspection.warnings.filter((line) => checkOfConfigLine(line) === checkId),
  };
}
