import { displayKeyName } from './describe-found.js';

/** A config location as segments: `['server', 'tls', 'cert_file']`, `['auth', 'api_keys', 0]`. */
export type ConfigPathSegments = readonly (string | number)[];

/**
 * `server.tls.cert_file`, `auth.api_keys[0].key`: how problems name where they are. A segment that
 * could be a secret (one typed as a YAML key, or as a provider name) is masked: paths reach the CLI,
 * the reload log line and the management API.
 */
export function formatConfigPath(segments: ConfigPathSegments): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? displayKeyName(segment) : `.${displayKeyName(segment)}`;
  }
  return text === '' ? '(top level)' : text;
}

/** Turns a TypeBox JSON pointer (`/auth/api_keys/0/key`) into path segments (array indexes as numbers). */
export function segmentsFromPointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment) => (/^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment));
}

/** Narrowing helper: a plain mapping (not an array, not null). */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
