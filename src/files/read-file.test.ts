import { appendFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/helpers/rejection.js';
import { makeFifoWithWatchdog, stopFifoWatchdogs } from '../../test/helpers/fifo.js';
import { FileReadError, readRegularFile, readRegularFileSync, type ReadFileOptions, type RegularFileContent } from './read-file.js';

/** Every case runs against the async reader and its sync twin: the two must behave alike. */
const twins = [
  { form: 'async', read: readRegularFile },
  { form: 'sync', read: (path: string, options: ReadFileOptions): Promise<RegularFileContent> => Promise.resolve().then(() => readRegularFileSync(path, options)) },
] as const;

const refusal = (promise: Promise<unknown>) => rejectionOf(promise, FileReadError);

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'cliproxy-read-')));
});
afterEach(() => {
  stopFifoWatchdogs();
  rmSync(root, { recursive: true, force: true });
});

describe.each(twins)('readRegularFile ($form)', ({ read }) => {
  it('reads a regular file and returns the fstat of the descriptor it read', async () => {
    const path = join(root, 'a.json');
    writeFileSync(path, '{"ok":true}', { mode: 0o600 });
    const { content, stats } = await read(path, { maxBytes: 1024 });
    expect(content.toString()).toBe('{"ok":true}');
    expect(stats.isFile()).toBe(true);
    expect(stats.mode & 0o777).toBe(0o600);
  });

  it('refuses a FIFO at once instead of waiting for a writer', { timeout: 10_000 }, async () => {
    const error = await refusal(read(makeFifoWithWatchdog(join(root, 'x.json')), { maxBytes: 1024 }));
    expect(error.reason).toBe('not-regular');
    expect(error.message).toBe(`${join(root, 'x.json')} is not a regular file (a pipe)`);
  });

  it('refuses /dev/zero (a character device that never ends) and a directory', async () => {
    expect((await refusal(read('/dev/zero', { maxBytes: 1024, followSymlinks: true }))).message).toBe('/dev/zero is not a regular file (a character device)');
    mkdirSync(join(root, 'directory'));
    expect((await refusal(read(join(root, 'directory'), { maxBytes: 1024 }))).reason).toBe('not-regular');
  });

  it('bounds what it reads by the bytes read, not by what fstat says (/proc files report size 0)', async () => {
    const { content } = await read('/proc/self/environ', { maxBytes: 1_048_576 });
    expect(content.length).toBeGreaterThan(0);
    const error = await refusal(read('/proc/self/cmdline', { maxBytes: 2 }));
    expect(error.reason).toBe('too-large');
    expect(error.message).toBe('/proc/self/cmdline is larger than 2 bytes');
  });

  it('refuses a file over the limit', async () => {
    const path = join(root, 'big.json');
    writeFileSync(path, 'x'.repeat(100));
    appendFileSync(path, 'y');
    expect((await refusal(read(path, { maxBytes: 100 }))).reason).toBe('too-large');
    expect((await read(path, { maxBytes: 101 })).content.length).toBe(101);
  });

  it('refuses a symlink unless the caller follows symlinks; a missing file is "missing"', async () => {
    const target = join(root, 'target.json');
    writeFileSync(target, '{}');
    symlinkSync(target, join(root, 'link.json'));
    const error = await refusal(read(join(root, 'link.json'), { maxBytes: 1024 }));
    expect(error.reason).toBe('symlink');
    expect((await read(join(root, 'link.json'), { maxBytes: 1024, followSymlinks: true })).content.toString()).toBe('{}');
    expect((await refusal(read(join(root, 'absent.json'), { maxBytes: 1024 }))).reason).toBe('missing');
  });
});
