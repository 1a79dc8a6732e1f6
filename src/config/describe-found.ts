/**
 * How config problems show what the operator wrote, without ever showing a secret. A secret can
 * land in a config problem two ways: typed as a YAML key (a mapping where a list item was meant,
 * `sk-…:` instead of `- sk-…`), so the "unknown key" message would quote it; or typed as the value
 * of a wrong-typed setting (`api_keys: sk-…` instead of a list). Both are shown masked.
 */

/** Longest key name shown verbatim; every key of the schema is shorter (the longest has 26). */
const maximumPlainNameLength = 32;
/** Digits tolerated in a name shown verbatim: `openai2`, `claude-2024` pass; hex and base64 secrets do not. */
const maximumPlainNameDigits = 4;

/** Mixed-case names up to this length are shown (`OpenAI`, `Bad_Name`); longer mixed case looks like base64. */
const maximumMixedCaseNameLength = 16;

/**
 * True when `name` could be a secret rather than a key name. Config keys and provider names are short
 * words; API keys, tokens and digests are long, mixed-case, or full of digits.
 */
export function couldBeSecret(name: string): boolean {
  if (name.length === 0) return false;
  if (name.length > maximumPlainNameLength || !/^[A-Za-z_][A-Za-z0-9_. -]*$/.test(name)) return true;
  if (name !== name.toLowerCase() && name.length > maximumMixedCaseNameLength) return true;
  return (name.match(/[0-9]/g) ?? []).length > maximumPlainNameDigits;
}

/**
 * A masked stand-in: the first two characters (a format prefix such as `sk`, never enough to guess
 * the rest) and the length, so the operator can find the line without the secret being printed.
 */
export function maskedName(name: string): string {
  return `‹masked: ${JSON.stringify(name.slice(0, 2)).slice(1, -1)}…, ${name.length} characters›`;
}

/** A key name as a problem may show it: verbatim when it cannot be a secret, masked otherwise. */
export function displayKeyName(name: string): string {
  return couldBeSecret(name) ? maskedName(name) : name;
}

/** Settings whose values are secrets (or may embed one, like a redis:// URL with a password). */
const secretSettingNames = new Set(['key', 'keys', 'api_keys', 'key_sha256', 'client_secret', 'url', 'token', 'secret', 'password']);

/**
 * What was found where a value of another type was expected: `found 70000`, `found "lots"`,
 * `found a list`. Strings are masked when the setting holds secrets or the string looks like one.
 */
export function describeFound(value: unknown, pathSegments: readonly (string | number)[]): string {
  if (value === undefined) return 'found nothing';
  if (value === null) return 'found null (an empty value)';
  if (Array.isArray(value)) return `found a list of ${value.length}`;
  if (typeof value === 'object') return 'found a mapping';
  if (typeof value === 'number' || typeof value === 'boolean') return `found ${String(value)}`;
  if (typeof value !== 'string') return `found a ${typeof value}`;
  const secretSetting = pathSegments.some((segment) => typeof segment === 'string' && secretSettingNames.has(segment));
  // Letters and digits mixed over 16+ characters is the shape of a key or token, whatever the setting.
  const tokenShaped = value.length >= 16 && /[0-9]/.test(value) && /[A-Za-z]/.test(value);
  if (secretSetting || tokenShaped || value.length > maximumPlainNameLength) return `found a string ${maskedName(value)}`;
  return `found ${JSON.stringify(value)}`;
}

/**
 * The known key an unknown one most likely meant: `api_key` → `api_keys`, `prot` → `port`.
 * Undefined when nothing is close (at most 2 edits, and fewer than half the name's length).
 */
export function likelyKey(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lowered = unknown.toLowerCase();
  for (const candidate of known) {
    const distance = lowered === candidate ? 0 : editDistance(lowered, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= 2 && bestDistance * 2 < Math.max(unknown.length, 2) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps (`prot` → `port` is 1). */
function editDistance(left: string, right: string): number {
  const rows = left.length + 1;
  const columns = right.length + 1;
  const table: number[][] = Array.from({ length: rows }, (_row, index) => Array.from({ length: columns }, (_cell, column) => (index === 0 ? column : column === 0 ? index : 0)));
  for (let row = 1; row < rows; row += 1) {
    for (let column = 1; column < columns; column += 1) {
      const cost = left[row - 1] === right[column - 1] ? 0 : 1;
      let value = Math.min(table[row - 1]![column]! + 1, table[row]![column - 1]! + 1, table[row - 1]![column - 1]! + cost);
      if (row > 1 && column > 1 && left[row - 1] === right[column - 2] && left[row - 2] === right[column - 1]) value = Math.min(value, table[row - 2]![column - 2]! + 1);
      table[row]![column] = value;
    }
  }
  return table[rows - 1]![columns - 1]!;
}
