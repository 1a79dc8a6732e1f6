import { describe, expect, it } from 'vitest';
import { scanJsonStructure } from './json-scan.js';

const scan = (text: string, maxDepth = 128) => scanJsonStructure(Buffer.from(text, 'utf8'), maxDepth);

describe('scanJsonStructure: duplicate keys', () => {
  it.each([
    ['top level, the issue-9 body', '{"model":"a","max_tokens":999999,"model":"b","max_tokens":10}', 'model'],
    ['nested in an array of objects', '{"messages":[{"role":"user"},{"role":"user","content":"x","role":"system"}]}', 'role'],
    ['deep inside a tool schema', '{"tools":[{"parameters":{"properties":{"a":{"type":"string","type":"number"}}}}]}', 'type'],
    ['escaped spelling of the same key', '{"model":"a","mod\\u0065l":"b"}', 'model'],
    ['raw UTF-8 and its escape', '{"caf\u00e9":1,"caf\\u00e9":2}', 'caf\u00e9'],
    ['after a value holding escaped quotes and backslashes', '{"a":"x\\"y\\\\","b":1,"a":2}', 'a'],
    ['after a nested object closed', '{"a":{"b":1},"c":[1,{"d":2}],"a":3}', 'a'],
    ['in an object with many keys (set lookup)', `{${Array.from({ length: 40 }, (_, index) => `"k${index}":${index}`).join(',')},"k3":0}`, 'k3'],
  ])('finds a repeated key: %s', (_case, text, key) => {
    expect(scan(text)).toEqual({ kind: 'duplicate-key', key });
  });

  it.each([
    ['the same key in sibling objects', '[{"a":1},{"a":2}]'],
    ['the same key at different depths', '{"a":{"a":{"a":1}}}'],
    ['repeated strings as array values', '{"a":["a","a"],"b":"a"}'],
    ['a key-like text inside a string', '{"a":"\\"a\\":1,\\"a\\":2","b":1}'],
    ['a quote after an even run of backslashes ends the string', '{"a":"x\\\\","a2":1}'],
    ['keys that differ only by case', '{"Model":1,"model":2}'],
  ])('accepts %s', (_case, text) => {
    expect(scan(text)).toBeUndefined();
    expect(() => JSON.parse(text) as unknown).not.toThrow();
  });

  it('cuts a long repeated key in its report', () => {
    const key = 'k'.repeat(500);
    const problem = scan(`{"${key}":1,"${key}":2}`);
    expect(problem).toEqual({ kind: 'duplicate-key', key: 'k'.repeat(64) });
  });
});

describe('scanJsonStructure: nesting depth', () => {
  const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('accepts exactly the limit and refuses one more', () => {
    expect(scan(nested(128))).toBeUndefined();
    expect(scan(nested(129))).toEqual({ kind: 'too-deep', maxDepth: 128 });
    expect(scan(`{"a":${nested(127)}}`)).toBeUndefined();
    expect(scan(`{"a":${nested(128)}}`)).toEqual({ kind: 'too-deep', maxDepth: 128 });
  });

  it('refuses 200,000 nested arrays quickly', () => {
    const started = process.hrtime.bigint();
    expect(scan(nested(200_000))).toEqual({ kind: 'too-deep', maxDepth: 128 });
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
  });

  it('counts brackets inside strings as text', () => {
    expect(scan(`{"a":"${'['.repeat(1_000)}"}`)).toBeUndefined();
  });
});

describe('scanJsonStructure: malformed input', () => {
  it.each(['{"a', '{"a":"b', '"\\', ']]]]}}}', '{,,,"a":1,,"a"', '\\"', ''])('ends without throwing on %j', (text) => {
    expect(() => scan(text)).not.toThrow();
  });

  it('stays linear on a string of escaped quotes', () => {
    const text = `{"a":"${'\\"'.repeat(500_000)}"}`;
    const started = process.hrtime.bigint();
    expect(scan(text)).toBeUndefined();
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
  });
});

describe('scanJsonStructure: agrees with JSON.parse on generated bodies', () => {
  /** A deterministic pseudo-random source, so a failure reproduces. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
  }
  const keyPool = ['a', 'b', 'model', 'role', 'caf\u00e9', 'x"y', 'back\\slash', '[', '{'];

  function generate(next: () => number, depth: number): unknown {
    const choice = next();
    if (depth > 5 || choice < 0.3) return keyPool[Math.floor(next() * keyPool.length)];
    if (choice < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => generate(next, depth + 1));
    const object: Record<string, unknown> = {};
    const count = Math.floor(next() * 5);
    for (let index = 0; index < count; index += 1) object[keyPool[Math.floor(next() * keyPool.length)]!] = generate(next, depth + 1);
    return object;
  }

  it('finds no problem in bodies without duplicates, and finds a duplicate spliced into any object', () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const text = JSON.stringify({ root: generate(random(seed), 0) });
      expect(scan(text), text).toBeUndefined();
      // Splice a repeat of the first key into the outermost object.
      const duplicated = `${text.slice(0, -1)},"root":0}`;
      expect(scan(duplicated)).toEqual({ kind: 'duplicate-key', key: 'root' });
    }
  });
});

describe('scanJsonStructure: prototype keys', () => {
  it.each([
    ['at the top level', '{"model":"a","__proto__":{"isAdmin":true}}'],
    ['deep in a message', '{"messages":[{"role":"user","content":[{"type":"text","__proto__":{"x":1}}]}]}'],
    ['spelled with an escape', '{"__pr\\u006fto__":{"isAdmin":true}}'],
    ['as the 20th key of an object (set lookup)', `{${Array.from({ length: 20 }, (_, index) => `"k${index}":${index}`).join(',')},"__proto__":1}`],
  ])('refuses a __proto__ key %s', (_case, text) => {
    expect(scan(text)).toEqual({ kind: 'prototype-key' });
  });

  it('reports a constructor key (escaped too) without refusing it, and only a key, not a value', () => {
    for (const text of ['{"tools":[{"properties":{"constructor":{"type":"string"}}}]}', '{"c\\u006fnstructor":{"prototype":{}}}']) {
      const findings = { constructorKey: false };
      expect(scanJsonStructure(Buffer.from(text), 128, findings)).toBeUndefined();
      expect(findings.constructorKey, text).toBe(true);
    }
    const findings = { constructorKey: false };
    expect(scanJsonStructure(Buffer.from('{"a":"constructor","b":["__proto__"]}'), 128, findings)).toBeUndefined();
    expect(findings.constructorKey).toBe(false);
  });
});
