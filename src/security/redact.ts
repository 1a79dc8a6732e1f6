/**
 * The one redactor. Every sink (logs, error bodies sent to clients, upstream error messages, and
 * later audit records) passes text through `redactText` before it leaves the process.
 *
 * Two layers, because neither alone is enough:
 * 1. Known secrets: every upstream key and token the gateway holds is registered at config load
 *    and replaced wherever it appears verbatim (an upstream echoing "Incorrect API key: …").
 * 2. Shapes: credentials in places where they usually travel (Authorization values, `?key=`,
 *    `"access_token": "…"`, `x-api-key: …`) and well-known key formats, for secrets the gateway
 *    was never told about (a client's wrong key, a token in an upstream body).
 */
const mask = '***';

/** Registered secrets shorter than this are ignored: replacing 3-letter strings would garble logs. */
const minimumSecretLength = 8;

const knownSecrets = new Set<string>();
let knownSecretsPattern: RegExp | undefined;
/** Bumped whenever the registered set changes, so compiled copies (the stream redactor's) know to rebuild. */
let knownSecretsGeneration = 0;

const shapePatterns: [RegExp, string][] = [
  // Authorization: Bearer <token> / Basic <creds>, in headers or in prose.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${mask}`],
  // Query-string credentials: ?key=…, &api_key=…, access_token=…
  [/([?&](?:key|api_key|apikey|access_token|token|refresh_token)=)[^&#\s"']+/gi, `$1${mask}`],
  // JSON or header fields that hold secrets.
  [
    /("(?:access_token|refresh_token|id_token|api_key|apiKey|client_secret|authorization|x-api-key|x-goog-api-key|x-management-key|password|secret)"\s*:\s*")[^"]*(")/gi,
    `$1${mask}$2`,
  ],
  // (a scheme word after `authorization:` is left for the Bearer/Basic rule above)
  [/\b(x-api-key|x-goog-api-key|x-management-key|authorization)(\s*[:=]\s*)(?!(?:Bearer|Basic|\*\*\*)\b)[^\s,;"']{6,}/gi, `$1$2${mask}`],
  // Well-known key formats: OpenAI/Anthropic style `sk-…`, Google `AIza…`, our own client keys `cpa_…`.
  [/\bsk-[A-Za-z0-9_-]{8,}/g, `sk-${mask}`],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, `AIza${mask}`],
  [/\bcpa_[A-Za-z0-9_-]{16,}/g, `cpa_${mask}`],
];

/**
 * True for a text of hex digits and dashes only, such as a UUID (the request ids the gateway
 * generates). Every shape above needs a character outside that alphabet (a letter past `f`, `?`,
 * `=`, `"`, `:`, `_` or a space), so for such a text only the registered secrets are looked for.
 * The access log redacts a request id on every request; this saves seven regular expressions
 * there (redact.test.ts checks that no shape matches a text of this alphabet). A loop, not a
 * regular expression: it costs less than one.
 */
function onlyHexAndDashes(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    // 0-9, A-F, a-f, '-'
    if (!((code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102) || code === 45)) return false;
  }
  return true;
}

function escapeForRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function rebuildKnownSecretsPattern(): void {
  knownSecretsGeneration += 1;
  if (knownSecrets.size === 0) {
    knownSecretsPattern = undefined;
    return;
  }
  // Longest first, so a secret that contains another is masked whole.
  const alternatives = [...knownSecrets].sort((left, right) => right.length - left.length).map(escapeForRegExp);
  knownSecretsPattern = new RegExp(alternatives.join('|'), 'g');
}

/** Registers secrets to mask verbatim (upstream keys, tokens). Called at config load and reload. */
export function registerSecrets(secrets: Iterable<string>): void {
  let changed = false;
  for (const secret of secrets) {
    if (secret.length < minimumSecretLength || knownSecrets.has(secret)) continue;
    knownSecrets.add(secret);
    changed = true;
  }
  if (changed) rebuildKnownSecretsPattern();
}

/** For tests: forget every registered secret. */
export function clearRegisteredSecrets(): void {
  knownSecrets.clear();
  knownSecretsPattern = undefined;
  knownSecretsGeneration += 1;
}

/**
 * The registered secrets and a generation number that changes with them, for the byte-level
 * stream redactor (`secret-stream-redactor.ts`), which compiles its own matcher and must know
 * when to compile it again.
 */
export function registeredSecrets(): { generation: number; secrets: readonly string[] } {
  return { generation: knownSecretsGeneration, secrets: [...knownSecrets] };
}

/** The current generation alone: a cheap check before `registeredSecrets()` copies the set. */
export function registeredSecretsGeneration(): number {
  return knownSecretsGeneration;
}

/** Returns `text` with every known secret and every secret-shaped value masked. */
export function redactText(text: string): string {
  let result = text;
  if (knownSecretsPattern !== undefined) result = result.replace(knownSecretsPattern, mask);
  if (text.length <= 64 && onlyHexAndDashes(text)) return result;
  for (const [pattern, replacement] of shapePatterns) {
    pattern.lastIndex = 0;
    if (pattern.test(result)) {
      pattern.lastIndex = 0;
      result = result.replace(pattern, replacement);
    }
  }
  return result;
}

/** Redacts a URL for logging: query credentials masked, the rest kept. */
export function redactUrl(url: string): string {
  return url.includes('?') ? redactText(url) : url;
}
