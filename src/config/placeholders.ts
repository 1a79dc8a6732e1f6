import { createHash } from 'node:crypto';

/**
 * Doc placeholders people paste into configs unchanged. A proxy that accepted `changeme` as a client
 * key (or sent `sk-...` upstream) would look configured while being open or broken, so these are refused
 * at load time. Compared case-insensitively after trimming.
 */
const placeholderWords: readonly string[] = [
  '…',
  '...',
  'your-api-key',
  'your_api_key',
  'sk-...',
  'sk-xxx',
  'sk-ant-...',
  'sk-ant-xxx',
  'changeme',
  'change-me',
  'change_me',
  'replaceme',
  'replace-me',
  'replace_me',
  'placeholder',
  'xxx…',
  '<your key>',
  '<your-api-key>',
  'your_32_byte_encryption_key_here',
  'test',
  'secret',
  'password',
  'example',
  'dummy',
  'apikey',
  'api-key',
  'api_key',
  'key',
  'token',
];

const placeholderSet: ReadonlySet<string> = new Set(placeholderWords.map((word) => word.toLowerCase()));

/** Shapes of placeholders rather than exact words: "your-…", "my_key", "<paste here>", "xxxx", "sk-xxxx". */
const placeholderPatterns: readonly RegExp[] = [
  /^(your|my)[-_ ]/i,
  /<[^>]+>/,
  /^x+$/i,
  // A prefix followed only by filler: "sk-xxxx", "sk-ant-....", "cpa_***".
  /^[a-z]+(?:[-_][a-z]+)*[-_][.…x*]+$/i,
  // Only filler characters: "...", "…", "***", "x.x.x".
  /^[.…x*\s]+$/i,
];

/**
 * True when `value` is a documentation placeholder or otherwise obviously not a real secret
 * (empty, one repeated character such as `aaaaaaaa`). Used for client keys, upstream keys and the
 * encryption key: refusing them fails closed instead of running with a guessable secret.
 */
export function isPlaceholderSecret(value: string): boolean {
  const trimmed = value.trim();
  if (trimmed.length === 0) return true;
  if (placeholderSet.has(trimmed.toLowerCase())) return true;
  if (placeholderPatterns.some((pattern) => pattern.test(trimmed))) return true;
  return isOneRepeatedCharacter(trimmed);
}

function isOneRepeatedCharacter(value: string): boolean {
  const characters = Array.from(value);
  const first = characters[0];
  return characters.every((character) => character === first);
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Lower-case hex SHA-256 digests of the placeholder words (as written, lower- and upper-case), so a
 * `key_sha256` computed from a doc placeholder (`echo -n changeme | sha256sum`) is refused too.
 * Patterns cannot be reversed from a digest; the exact words are the ones people actually hash.
 */
export const placeholderSha256Set: ReadonlySet<string> = new Set(
  ['', ...placeholderWords].flatMap((word) => [word, word.toLowerCase(), word.toUpperCase()]).map(sha256Hex),
);

/** True when `digestHex` is the SHA-256 of a known placeholder (case-insensitive hex). */
export function isPlaceholderSha256(digestHex: string): boolean {
  return placeholderSha256Set.has(digestHex.toLowerCase());
}
