import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createPrivateFileExclusive,
  createPrivateFileExclusiveSync,
  ensurePrivateDirectory,
  ensurePrivateDirectorySync,
  writePrivateFile,
  writePrivateFileSync,
} from './private-file.js';

/** Every case runs against the async functions and their sync twins: the two must behave alike. */
const twins = [
  { form: 'async', write: writePrivateFile, createExclusive: createPrivateFileExclusive, ensureDirectory: ensurePrivateDirectory },
  {
    form: 'sync',
    write: (path: string, content: string) => Promise.resolve(writePrivateFileSync(path, content)),
    createExclusive: (path: string, content: string) => Promise.resolve(createPrivateFileExclusiveSync(path, content)),
    ensureDirectory: (path: string) => Promise.resolve(ensurePrivateDirectorySync(path)),
  },
] as const;

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe.each(twins)('private files ($form)', ({ write, createExclusive, ensureDirectory }) => {
  let root: string;
  let savedUmask: number;
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'cliproxy-private-')));
    // The most permissive umask: the modes must be exact because the code sets them, not the umask.
    savedUmask = process.umask(0);
  });
  afterEach(() => {
    process.umask(savedUmask);
    rmSync(root, { recursive: true, force: true });
  });

  it('writes 0600 in missing parents created 0700, whatever the umask, and leaves no temp file', async () => {
    const path = join(root, 'a', 'b', 'secret.json');
    await write(path, 'first\n');
    await write(path, 'second\n');
    expect(readFileSync(path, 'utf8')).toBe('second\n');
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(join(root, 'a'))).toBe(0o700);
    expect(modeOf(join(root, 'a', 'b'))).toBe(0o700);
    expect(readdirSync(join(root, 'a', 'b'))).toEqual(['secret.json']);
  });

  it('leaves the mode of a directory that already existed to the startup checks', async () => {
    mkdirSync(join(root, 'operator'), { mode: 0o750 });
    await ensureDirectory(join(root, 'operator', 'inner'));
    expect(modeOf(join(root, 'operator'))).toBe(0o750);
    expect(modeOf(join(root, 'operator', 'inner'))).toBe(0o700);
  });

  it('replaces a symlink planted at the target instead of writing through it', async () => {
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, 'untouched\n', { mode: 0o644 });
    const path = join(root, 'secret.json');
    symlinkSync(victim, path);
    await write(path, 'secret\n');
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    expect(modeOf(victim)).toBe(0o644);
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('secret\n');
  });

  it('creates exclusively: the first content wins, a second create returns false and changes nothing', async () => {
    const path = join(root, 'data', 'fingerprint.json');
    expect(await createExclusive(path, 'winner\n')).toBe(true);
    expect(await createExclusive(path, 'loser\n')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('winner\n');
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(join(root, 'data'))).toBe(0o700);
    expect(readdirSync(join(root, 'data'))).toEqual(['fingerprint.json']);
  });
});
