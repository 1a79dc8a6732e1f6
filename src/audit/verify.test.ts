import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainLine, hashFunctionFor, serializeEventFields, splitHashedLine } from './audit-record.js';
import { verifyAuditChain } from './verify.js';
import { auditTestDirectory, readLines, testEvent, testWriter, writeEvents, writeLines } from './__fixtures__/audit-test-support.js';

/**
 * The attacks on a written chain: each one changes the file, and verify must name the record and
 * what happened to it. Line numbers: line 1 is the writer's audit-file-start, events follow.
 */
describe('audit verify', () => {
  let directory: string;
  let file: string;
  beforeEach(async () => {
    directory = auditTestDirectory();
    file = join(directory, 'audit.jsonl');
    await writeEvents(testWriter(file), 6);
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('accepts the intact chain', async () => {
    const result = await verifyAuditChain([file], undefined);
    expect(result).toMatchObject({ ok: true, records: 7 });
  });

  it('names an edited record', async () => {
    const lines = readLines(file);
    lines[3] = (lines[3] ?? '').replace('event-2', 'event-X');
    writeLines(file, lines);
    const result = await verifyAuditChain([file], undefined);
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/^audit\.jsonl:4 \(seq 4\): edited/);
  });

  it('names a dropped record (the one after the gap)', async () => {
    const lines = readLines(file);
    lines.splice(3, 1);
    writeLines(file, lines);
    const result = await verifyAuditChain([file], undefined);
    expect(result.problem).toMatch(/^audit\.jsonl:4 \(seq 5\): dropped: 1 record\(s\) \(seq 4\)/);
  });

  it('names dropped head records', async () => {
    writeLines(file, readLines(file).slice(2));
    const result = await verifyAuditChain([file], undefined);
    expect(result.problem).toMatch(/^audit\.jsonl:1 \(seq 3\): dropped: the records before it are missing/);
  });

  it('names swapped (reordered) records', async () => {
    const lines = readLines(file);
    [lines[2], lines[3]] = [lines[3] ?? '', lines[2] ?? ''];
    writeLines(file, lines);
    const result = await verifyAuditChain([file], undefined);
    expect(result.problem).toMatch(/^audit\.jsonl:3 \(seq 4\): reordered: it belongs after audit\.jsonl:4 \(seq 3\)/);
  });

  it('names a record moved further away', async () => {
    const lines = readLines(file);
    const [moved] = lines.splice(1, 1);
    lines.push(moved ?? '');
    writeLines(file, lines);
    const result = await verifyAuditChain([file], undefined);
    expect(result.problem).toMatch(/^audit\.jsonl:2 \(seq 3\): reordered/);
  });

  it('names a duplicated (replayed) record', async () => {
    const lines = readLines(file);
    lines.splice(3, 0, lines[2] ?? '');
    writeLines(file, lines);
    const result = await verifyAuditChain([file], undefined);
    expect(result.problem).toMatch(/^audit\.jsonl:4 \(seq 3\): duplicated/);
  });

  it('names an inserted record that does not link', async () => {
    const lines = readLines(file);
    const forged = chainLine(4, serializeEventFields(testEvent('forged'), Date.now()), `sha256:${'0'.repeat(64)}`, hashFunctionFor(undefined).hash).line;
    lines.splice(3, 0, forged);
    writeLines(file, lines);
    const result = await verifyAuditChain([file], undefined);
    expect(result.problem).toMatch(/^audit\.jsonl:4 \(seq 4\): inserted: it is not part of the chain/);
  });

  it('names an inserted record linked to its predecessor with a valid SHA-256 hash', async () => {
    const lines = readLines(file);
    const before = splitHashedLine(lines[2] ?? '');
    const forged = chainLine(4, serializeEventFields(testEvent('forged'), Date.now()), before?.hash ?? null, hashFunctionFor(undefined).hash).line;
    lines.splice(3, 0, forged);
    writeLines(file, lines);
    const result = await verifyAuditChain([file], undefined);
    expect(result.problem).toMatch(/^audit\.jsonl:4 \(seq 4\): inserted/);
  });

  it('names a line that is not a record at all', async () => {
    const lines = readLines(file);
    lines.splice(2, 0, '{"not":"a record"}');
    writeLines(file, lines);
    const result = await verifyAuditChain([file], undefined);
    expect(result.problem).toMatch(/^audit\.jsonl:3: edited: the line is not a well-formed audit record/);
  });

  it('refuses a second "hash" field hidden inside the hashed part', async () => {
    const lines = readLines(file);
    lines[2] = (lines[2] ?? '').replace('"detail":', '"hash":"sha256:x","detail":');
    writeLines(file, lines);
    expect((await verifyAuditChain([file], undefined)).problem).toMatch(/^audit\.jsonl:3: edited/);
  });
});

describe('audit verify with an audit key (HMAC-SHA-256)', () => {
  let directory: string;
  let file: string;
  const key = createHash('sha256').update('test audit key, not a secret').digest();
  beforeEach(async () => {
    directory = auditTestDirectory();
    file = join(directory, 'audit.jsonl');
    await writeEvents(testWriter(file, { key }), 4);
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('accepts the intact keyed chain, and asks for the key without it', async () => {
    expect(await verifyAuditChain([file], key)).toMatchObject({ ok: true, records: 5 });
    expect((await verifyAuditChain([file], undefined)).problem).toMatch(/pass the audit key/);
  });

  it('catches a chain rewritten from an edit on with plain SHA-256 (an attacker without the key)', async () => {
    const lines = readLines(file);
    const sha = hashFunctionFor(undefined).hash;
    let prev = splitHashedLine(lines[1] ?? '')?.hash ?? null;
    for (let index = 2; index < lines.length; index++) {
      const fields = /^\{"seq":\d+,(.*),"prev":/.exec(lines[index] ?? '')?.[1] ?? '';
      const rewritten = chainLine(index + 1, fields.replace('event-1', 'event-X'), prev, sha);
      lines[index] = rewritten.line;
      prev = rewritten.hash;
    }
    writeLines(file, lines);
    expect((await verifyAuditChain([file], key)).problem).toMatch(/^audit\.jsonl:3 \(seq 3\): not keyed/);
  });

  it('catches a record forged with a wrong key', async () => {
    const lines = readLines(file);
    const fields = /^\{"seq":\d+,(.*),"prev":/.exec(lines[2] ?? '')?.[1] ?? '';
    const wrongKey = hashFunctionFor(createHash('sha256').update('another key').digest()).hash;
    lines[2] = chainLine(3, fields.replace('event-1', 'event-X'), splitHashedLine(lines[1] ?? '')?.hash ?? null, wrongKey).line;
    writeLines(file, lines);
    expect((await verifyAuditChain([file], key)).problem).toMatch(/^audit\.jsonl:3 \(seq 3\): edited: its hash does not match its content \(or inserted without the audit key\)/);
  });
});
