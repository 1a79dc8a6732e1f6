/**
 * A seeded generator of hostile request bodies for the fuzz test: a valid body of the surface,
 * then a few random mutations (a field set to a value of the wrong type, deleted, deeply nested,
 * huge, full of control characters or lone surrogates; roles and block types swapped; keys
 * repeated), or now and then bytes that are not JSON at all. Deterministic for a seed, so a failure
 * replays with `FUZZ_SEED=<seed>`.
 *
 * Not fast-check: it is not among this project's dependencies, and this is what its property test
 * would do here (random structured input, a fixed printed seed, bounded runs) without adding one.
 */
export type Random = () => number;

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; enough for test input. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const integer = (random: Random, below: number): number => Math.floor(random() * below);

const strings = [
  '',
  'hi',
  '\u0000\u0001\u001b[2J',
  '\ud800',
  '\udfff\ud800',
  'é'.repeat(50),
  '𝕏'.repeat(20),
  '<script>',
  '__proto__',
  'constructor',
  '../../etc/passwd',
  '%00',
  'x'.repeat(5_000),
  'data:image/png;base64,AAAA',
  'https://169.254.169.254/latest',
];
const numbers = [0, -1, 1, 2 ** 31, 2 ** 53 + 1, -(2 ** 53), 1e308, -1e308, 0.5, 1e-300, 131_072, 131_073];
const keys = ['model', 'messages', 'role', 'content', 'type', 'text', 'tools', 'tool_choice', 'max_tokens', 'stream', 'stop', 'user', 'metadata', 'system', 'name', 'id', 'input', 'function', 'arguments', 'tool_calls', 'tool_call_id', 'tool_use_id', 'source', 'image_url', 'url', 'temperature', 'n', 'stop_sequences', 'constructor', 'prototype'];

/** A random JSON value, nested at most `depth` more levels. */
export function randomValue(random: Random, depth = 3): unknown {
  const roll = random();
  if (roll < 0.1) return null;
  if (roll < 0.2) return random() < 0.5;
  if (roll < 0.4) return pick(random, numbers);
  if (roll < 0.65 || depth <= 0) return pick(random, strings);
  if (roll < 0.82) return Array.from({ length: integer(random, 4) }, () => randomValue(random, depth - 1));
  const object: Record<string, unknown> = {};
  for (let index = integer(random, 4); index > 0; index -= 1) object[pick(random, keys)] = randomValue(random, depth - 1);
  return object;
}

type Container = Record<string, unknown> | unknown[];
const isContainer = (value: unknown): value is Container => typeof value === 'object' && value !== null;

/** A random object or array inside `root` (root included), to mutate. */
function randomContainer(random: Random, root: Container): Container {
  let node: Container = root;
  for (let step = integer(random, 5); step > 0; step -= 1) {
    const children = Object.values(node).filter(isContainer);
    if (children.length === 0) break;
    node = pick(random, children);
  }
  return node;
}

function mutate(random: Random, body: Record<string, unknown>): void {
  const target = randomContainer(random, body);
  const existing = Array.isArray(target) ? target.map((_, index) => String(index)) : Object.keys(target);
  const key = existing.length > 0 && random() < 0.7 ? pick(random, existing) : pick(random, keys);
  const set = (value: unknown) => {
    if (Array.isArray(target)) target[Number(key) || 0] = value;
    else target[key] = value;
  };
  switch (integer(random, 6)) {
    case 0:
      if (Array.isArray(target)) target.splice(Number(key) || 0, 1);
      else delete target[key];
      break;
    case 1: {
      let deep: unknown = randomValue(random, 0);
      for (let level = 20 + integer(random, 150); level > 0; level -= 1) deep = random() < 0.5 ? [deep] : { [pick(random, keys)]: deep };
      set(deep);
      break;
    }
    case 2:
      set(Array.from({ length: 1 + integer(random, 300) }, () => randomValue(random, 1)));
      break;
    default:
      set(randomValue(random));
  }
}

function validBody(random: Random, surface: 'openai' | 'anthropic'): Record<string, unknown> {
  const model = pick(random, ['gpt-test', 'claude-test', 'sonnet-test', 'no-such-model']);
  if (surface === 'openai') {
    return {
      model,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'result' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'number' } } } } }],
      max_tokens: 64,
      stream: random() < 0.3,
    };
  }
  return {
    model,
    max_tokens: 64,
    system: [{ type: 'text', text: 'be brief' }],
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'result' }] }] },
    ],
    tools: [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'number' } } } }],
    metadata: { user_id: 'u-1' },
    stream: random() < 0.3,
  };
}

/** One hostile body for `surface`, as the bytes to send. */
export function hostileBody(random: Random, surface: 'openai' | 'anthropic'): string {
  const roll = random();
  if (roll < 0.05) return Buffer.from(Array.from({ length: integer(random, 200) }, () => integer(random, 256))).toString('latin1');
  const body = validBody(random, surface);
  for (let count = 1 + integer(random, 4); count > 0; count -= 1) mutate(random, body);
  const text = JSON.stringify(body);
  if (roll < 0.1) return text.slice(0, integer(random, text.length)); // truncated
  if (roll < 0.15) return text.replace('{', `{"${pick(random, keys)}":${JSON.stringify(randomValue(random, 1))},`); // maybe a repeated key
  return text;
}
