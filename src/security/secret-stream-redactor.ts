import { registeredSecrets, registeredSecretsGeneration } from './redact.js';

/**
 * Masks the registered secrets (upstream keys and tokens, see `redact.ts`) in relayed upstream
 * bytes, without parsing them. An upstream that echoes its key in an error event, or in any byte
 * of an answer, must not hand it to a client: same-format answers are forwarded byte for byte, so
 * this is the only place that can catch it there. Translated answers go through it too, before
 * translation, so no path depends on a translator remembering to redact.
 *
 * How: the bytes are read as latin1 (one character per byte, a native copy) and searched with one
 * regular expression of every secret's UTF-8 bytes, longest first (V8 compiles it to native code).
 * A secret may be cut across two upstream pieces, so the piece's tail that could still become a
 * secret is held back and searched again with the next piece. Only such a tail is held: SSE events
 * end in '\n', which no secret contains, so in practice a relayed stream is never delayed.
 */
export interface SecretStreamRedactor {
  /** The piece with every complete secret masked, minus a tail that may start a secret (kept for the next push). */
  push(piece: Buffer): Buffer;
  /** What is still held back, masked; call once at the end of the stream. */
  flush(): Buffer;
}

const mask = '***';
const empty = Buffer.alloc(0);

interface CompiledSecrets {
  generation: number;
  /** Every secret's UTF-8 bytes as a latin1 string, longest first; global, for exec/replace. */
  pattern: RegExp;
  /** The same strings sorted, for the "is this tail a prefix of a secret" binary search. */
  sorted: string[];
  /** The longest secret, in bytes: a held tail is always shorter. */
  maxLength: number;
  /** 1 for every byte value that occurs in some secret: a tail must consist of these. */
  alphabet: Uint8Array;
}

let compiled: CompiledSecrets | undefined;
let compiledGeneration = -1;

function escapeForRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The matcher for the secrets registered now, compiled again only when they changed. */
function currentSecrets(): CompiledSecrets | undefined {
  const generation = registeredSecretsGeneration();
  if (generation === compiledGeneration) return compiled;
  const { secrets } = registeredSecrets();
  compiledGeneration = generation;
  if (secrets.length === 0) {
    compiled = undefined;
    return undefined;
  }
  const byteStrings = secrets.map((secret) => Buffer.from(secret, 'utf8').toString('latin1'));
  const longestFirst = [...byteStrings].sort((left, right) => right.length - left.length);
  const alphabet = new Uint8Array(256);
  for (const text of byteStrings) for (let index = 0; index < text.length; index++) alphabet[text.charCodeAt(index)] = 1;
  compiled = {
    generation,
    pattern: new RegExp(longestFirst.map(escapeForRegExp).join('|'), 'g'),
    sorted: [...byteStrings].sort(),
    maxLength: longestFirst[0]?.length ?? 0,
    alphabet,
  };
  return compiled;
}

/** True when `text` is the beginning of some secret (binary search in the sorted list). */
function isPrefixOfSecret(secrets: CompiledSecrets, text: string): boolean {
  const { sorted } = secrets;
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as string) < text) low = middle + 1;
    else high = middle;
  }
  return low < sorted.length && (sorted[low] as string).startsWith(text);
}

/** Length of the longest end of `text` that is a proper beginning of some secret (0 almost always). */
function heldTailLength(secrets: CompiledSecrets, text: string): number {
  const { alphabet } = secrets;
  const limit = Math.min(secrets.maxLength - 1, text.length);
  let run = 0;
  while (run < limit && alphabet[text.charCodeAt(text.length - 1 - run)] === 1) run++;
  for (let length = run; length > 0; length--) {
    if (isPrefixOfSecret(secrets, text.slice(text.length - length))) return length;
  }
  return 0;
}

/** Masks every registered secret in a whole body (a non-streamed answer). Returns `body` itself when none occurs. */
export function redactRegisteredSecrets(body: Buffer): Buffer {
  const secrets = currentSecrets();
  if (secrets === undefined || body.length === 0) return body;
  const text = body.toString('latin1');
  secrets.pattern.lastIndex = 0;
  if (!secrets.pattern.test(text)) return body;
  secrets.pattern.lastIndex = 0;
  return Buffer.from(text.replace(secrets.pattern, mask), 'latin1');
}

/**
 * A redactor for one stream, or undefined when no secret is registered (then the relay skips it
 * and pays nothing). The secrets are those registered when the stream starts.
 */
export function createSecretStreamRedactor(): SecretStreamRedactor | undefined {
  const secrets = currentSecrets();
  if (secrets === undefined) return undefined;
  const { pattern } = secrets;
  let held = '';
  return {
    push(piece) {
      const text = held === '' ? piece.toString('latin1') : held + piece.toString('latin1');
      let boundary = text.length - heldTailLength(secrets, text);
      pattern.lastIndex = 0;
      if (!pattern.test(text)) {
        if (held === '' && boundary === text.length) return piece; // the usual case: nothing to change
        held = text.slice(boundary);
        return Buffer.from(text.slice(0, boundary), 'latin1');
      }
      let output = '';
      let copied = 0;
      pattern.lastIndex = 0;
      for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
        const end = match.index + match[0].length;
        // A match reaching into the held tail may be the start of a longer secret: decide with the next piece.
        if (end > boundary) {
          if (match.index < boundary) boundary = match.index;
          break;
        }
        output += text.slice(copied, match.index) + mask;
        copied = end;
      }
      output += text.slice(copied, boundary);
      held = text.slice(boundary);
      return Buffer.from(output, 'latin1');
    },
    flush() {
      if (held === '') return empty;
      pattern.lastIndex = 0;
      const rest = held.replace(pattern, mask);
      held = '';
      return Buffer.from(rest, 'latin1');
    },
  };
}
