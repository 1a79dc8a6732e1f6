import { appendFileSync, chmodSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearRegisteredSecrets, registerSecrets } from '../security/redact.js';
import { AuditFileError, rotatedFilesOf } from './audit-files.js';
import { serializeEventFields } from './audit-record.js';
import { verifyAuditChain } from './verify.js';
import { auditTestDirectory, canary, readLines, testEvent, testWriter, writeEvents } from './__fixtures__/audit-test-support.js';

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('audit file writer', () => {
  let root: string;
  let directory: string;
  let file: string;
  beforeEach(() => {
    root = auditTestDirectory();
    directory = join(root, 'logs');
    file = join(directory, 'audit.jsonl');
  });
  afterEach(() => {
    clearRegisteredSecrets();
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the directory 0700 and the file 0600 whatever the umask, and writes one chained record per event', async () => {
    const savedUmask = process.umask(0);
    try {
      const writer = testWriter(file);
      await writer.check();
      await writeEvents(writer, 3);
    } finally {
      process.umask(savedUmask);
    }
    expect(modeOf(directory)).toBe(0o700);
    expect(modeOf(file)).toBe(0o600);
    const records = readLines(file).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => record['event_type'])).toEqual(['audit-file-start', 'test-event', 'test-event', 'test-event']);
    expect(Object.keys(records[1] ?? {})).toEqual([
      'seq', 'timestamp', 'event_type', 'result', 'user_id', 'ip', 'provider', 'request_id', 'actor', 'credential_ids', 'detail', 'prev', 'hash',
    ]);
    expect(records.map((record) => record['seq'])).toEqual([1, 2, 3, 4]);
    expect(records[0]?.['prev']).toBeNull();
    expect(records[2]?.['prev']).toBe(records[1]?.['hash']);
    expect(await verifyAuditChain([file], undefined)).toMatchObject({ ok: true, records: 4 });
  });

  it('queues without writing until the flush', async () => {
    const writer = testWriter(file);
    await writer.check();
    writer.enqueue(serializeEventFields(testEvent('queued'), Date.now()));
    expect(readFileSync(file, 'utf8')).toBe('');
    await writer.close();
    expect(readLines(file)).toHaveLength(2);
  });

  it('rotates by size into files named by their last seq, and the chain runs across them', async () => {
    const writer = testWriter(file, { maxFileBytes: 2_000 });
    for (let round = 0; round < 8; round++) await writeEvents(writer, 3, `round-${round}`);
    const rotated = await rotatedFilesOf(file);
    expect(rotated.length).toBeGreaterThan(2);
    for (const path of [...rotated, file]) expect(modeOf(path)).toBe(0o600);
    expect(basename(rotated[0] ?? '')).toMatch(/^audit\.\d{12}\.jsonl$/);
    const result = await verifyAuditChain([...rotated, file], undefined);
    expect(result).toMatchObject({ ok: true });
    const events = [...rotated, file].flatMap(readLines).filter((line) => line.includes('"test-event"'));
    expect(events).toHaveLength(24);
    // A rotated file dropped from the middle is named.
    const gap = await verifyAuditChain([rotated[0] ?? '', ...rotated.slice(2), file], undefined);
    expect(gap.ok).toBe(false);
    expect(gap.problem).toMatch(/dropped/);
  });

  it('keeps one chain with two writers on one file (each re-reads the last record under the lock)', async () => {
    const first = testWriter(file);
    const second = testWriter(file);
    for (let round = 0; round < 5; round++) {
      await Promise.all([writeEvents(first, 3, `first-${round}`), writeEvents(second, 2, `second-${round}`)]);
    }
    expect(await verifyAuditChain([file], undefined)).toMatchObject({ ok: true, records: 26 });
  });

  it('continues after a line cut short by a crash, and verify accepts the writer\'s note of it', async () => {
    const writer = testWriter(file);
    await writeEvents(writer, 2);
    appendFileSync(file, '{"seq":4,"timestamp":"2026-');
    await writeEvents(testWriter(file), 1, 'after-crash');
    const lines = readLines(file);
    expect(lines.at(-2)).toContain('"audit-torn-record"');
    const result = await verifyAuditChain([file], undefined);
    expect(result).toMatchObject({ ok: true });
    expect(result.notes.join('\n')).toMatch(/cut short by a crash/);
  });

  it('records that the live file went missing under it, so verify shows the gap', async () => {
    const writer = testWriter(file);
    await writeEvents(writer, 3);
    unlinkSync(file);
    await writeEvents(writer, 1, 'later');
    const lines = readLines(file);
    expect(lines[0]).toContain('"audit-file-start"');
    expect(lines[1]).toContain('"audit-file-missing"');
    expect((await verifyAuditChain([file], undefined)).ok).toBe(true); // on its own it continues a chain not given
    expect((await verifyAuditChain([file], undefined)).notes.join('')).toMatch(/continues a chain/);
  });

  it('refuses an audit file replaced by a symlink, and keeps the records queued', async () => {
    const writer = testWriter(file);
    await writeEvents(writer, 1);
    const elsewhere = join(root, 'elsewhere.jsonl');
    writeFileSync(elsewhere, '', { mode: 0o600 });
    unlinkSync(file);
    symlinkSync(elsewhere, file);
    writer.enqueue(serializeEventFields(testEvent('while-refused'), Date.now()));
    await expect(writer.flush()).rejects.toThrow(/is a symlink/);
    expect(readFileSync(elsewhere, 'utf8')).toBe('');
    await expect(testWriter(file).check()).rejects.toBeInstanceOf(AuditFileError);
    // Put right: the queued record is written.
    unlinkSync(file);
    await writer.flush();
    expect(readFileSync(file, 'utf8')).toContain('while-refused');
  });

  it('reuses its memory across flushes without mixing batches: a failed flush keeps its records, every record lands once', async () => {
    const writer = testWriter(file, { maxFileBytes: 64 * 1024 * 1024 }); // one file: no rotation in between
    await writer.check();
    const record = (label: string, index: number, padding: number) =>
      serializeEventFields(testEvent('', { detail: { id: `${label}-${index}`, padding: 'p'.repeat(padding) } }), Date.now());
    // A large batch first (fills the kept buffer and several chunks), then smaller ones reuse them.
    for (let index = 0; index < 1_200; index++) writer.enqueue(record('large', index, 600));
    await writer.flush();
    for (let index = 0; index < 3; index++) writer.enqueue(record('small', index, 5));
    await writer.flush();
    // A flush that fails: its chunks must not be reused while its records wait for the retry.
    const elsewhere = join(root, 'elsewhere.jsonl');
    writeFileSync(elsewhere, '', { mode: 0o600 });
    const saved = join(root, 'saved.jsonl');
    writeFileSync(saved, readFileSync(file));
    unlinkSync(file);
    symlinkSync(elsewhere, file);
    for (let index = 0; index < 700; index++) writer.enqueue(record('refused', index, 600));
    await expect(writer.flush()).rejects.toThrow(/is a symlink/);
    for (let index = 0; index < 700; index++) writer.enqueue(record('meanwhile', index, 600));
    unlinkSync(file);
    writeFileSync(file, readFileSync(saved), { mode: 0o600 });
    await writer.flush();

    const lines = readLines(file).map((line) => JSON.parse(line) as { event_type: string; detail: { id?: string } });
    const ids = lines.filter((line) => line.event_type === 'test-event').map((line) => line.detail.id);
    const expected = [
      ...Array.from({ length: 1_200 }, (_, index) => `large-${index}`),
      ...Array.from({ length: 3 }, (_, index) => `small-${index}`),
      ...Array.from({ length: 700 }, (_, index) => `refused-${index}`),
      ...Array.from({ length: 700 }, (_, index) => `meanwhile-${index}`),
    ];
    expect(ids).toEqual(expected);
    expect(await verifyAuditChain([file], undefined)).toMatchObject({ ok: true, records: lines.length });
  });

  it('refuses an audit file or directory others can read', async () => {
    await writeEvents(testWriter(file), 1);
    chmodSync(file, 0o644);
    await expect(testWriter(file).check()).rejects.toThrow(/mode 0644 lets group or others read it.*chmod 600/);
    chmodSync(file, 0o600);
    chmodSync(directory, 0o755);
    await expect(testWriter(file).check()).rejects.toThrow(/mode 0755.*chmod 700/);
  });

  it('refuses a FIFO planted under the name without blocking', async () => {
    mkdirSync(directory, { mode: 0o700 });
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', ['-m', '600', file]);
    await expect(testWriter(file).check()).rejects.toThrow(/not a regular file/);
  });

  it('writes no canary secret: registered secrets and secret shapes are masked in every field', async () => {
    const registered = canary('registered');
    registerSecrets([registered]);
    const bearer = canary('bearer');
    const writer = testWriter(file);
    writer.enqueue(serializeEventFields(testEvent(`upstream said: invalid key ${registered}`, { user_id: registered, provider: `Bearer ${bearer}` }), Date.now()));
    writer.enqueue(serializeEventFields(testEvent('x', { detail: { body: `{"api_key": "${canary('json')}"}`, model: registered } }), Date.now()));
    await writer.close();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(registered);
    expect(text).not.toContain(bearer);
    expect(text).not.toMatch(/canary-json/);
    expect(text).toContain('***');
    expect(await verifyAuditChain([file], undefined)).toMatchObject({ ok: true });
  });

  it('copies each written batch, line for line, to the copy sink (audit.stdout)', async () => {
    const copied: string[] = [];
    await writeEvents(testWriter(file, { copy: (lines) => copied.push(lines) }), 2);
    expect(copied.join('')).toBe(readFileSync(file, 'utf8'));
  });
});
