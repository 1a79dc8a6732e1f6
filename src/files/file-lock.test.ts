import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStaleLock, lockPathFor, withFileLock, withFileLockSync } from './file-lock.js';

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'cliproxy-lock-')));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited: no process has it now (until the kernel reuses it). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString('utf8'));
}

describe('withFileLock', () => {
  it('serialises read-modify-write in one process: 50 concurrent increments, none lost', async () => {
    const path = join(root, 'counter');
    writeFileSync(path, '0');
    const { readFile, writeFile } = await import('node:fs/promises');
    await Promise.all(
      Array.from({ length: 50 }, () =>
        withFileLock(path, async () => {
          const value = Number(await readFile(path, 'utf8'));
          await new Promise((resolve) => setImmediate(resolve));
          await writeFile(path, String(value + 1));
        }),
      ),
    );
    expect(await readFile(path, 'utf8')).toBe('50');
    expect(existsSync(lockPathFor(path))).toBe(false);
  });

  it('waits for a lock another process holds, then takes it', async () => {
    const path = join(root, 'shared.json');
    const lock = lockPathFor(path);
    const released = join(root, 'released');
    // Another (live) process holds the lock for ~300 ms, notes that it releases, then releases.
    const script = `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(lock)}, process.pid + ' 00aa\\n'); setTimeout(() => { fs.writeFileSync(${JSON.stringify(released)}, ''); fs.unlinkSync(${JSON.stringify(lock)}); }, 300)`;
    const holder = spawn(process.execPath, ['-e', script]);
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    while (!existsSync(lock)) await new Promise((resolve) => setTimeout(resolve, 10));
    const sawRelease = await withFileLock(path, () => Promise.resolve(existsSync(released)));
    await exited;
    expect(holder.exitCode).toBe(0);
    expect(sawRelease).toBe(true);
    expect(existsSync(lock)).toBe(false);
  });

  it('refuses after the timeout, naming the live holder and its lock file', async () => {
    const path = join(root, 'busy.json');
    writeFileSync(lockPathFor(path), `${process.ppid} 00aa\n`);
    await expect(withFileLock(path, () => Promise.resolve(), { timeoutMs: 200 })).rejects.toThrow(`process ${process.ppid} holds ${lockPathFor(path)}`);
    expect(() => withFileLockSync(path, () => undefined, { timeoutMs: 200 })).toThrow(`process ${process.ppid} holds`);
  });

  it('breaks a lock left by a dead process (async and sync), and one left by an earlier process with our pid', async () => {
    const path = join(root, 'crashed.json');
    writeFileSync(lockPathFor(path), `${deadPid()} 00aa\n`);
    expect(await withFileLock(path, () => Promise.resolve('ran'), { timeoutMs: 2_000 })).toBe('ran');
    writeFileSync(lockPathFor(path), `${deadPid()} 00aa\n`);
    expect(withFileLockSync(path, () => 'ran', { timeoutMs: 2_000 })).toBe('ran');
    // A container restarted: the server is pid 1 again, and the lock names pid 1 with another token.
    writeFileSync(lockPathFor(path), `${process.pid} 0123456789abcdef\n`);
    expect(withFileLockSync(path, () => 'ran', { timeoutMs: 2_000 })).toBe('ran');
    expect(readdirSync(root)).toEqual([]);
  });

  it('breaks a lock older than staleAfterMs even when its pid is alive (pid reuse)', () => {
    const path = join(root, 'old.json');
    writeFileSync(lockPathFor(path), `${process.ppid} 00aa\n`);
    const longAgo = new Date(Date.now() - 120_000);
    utimesSync(lockPathFor(path), longAgo, longAgo);
    expect(withFileLockSync(path, () => 'ran', { timeoutMs: 2_000 })).toBe('ran');
  });

  it('creates the lock file 0600 in a directory it creates 0700', () => {
    const path = join(root, 'new-dir', 'keys.json');
    withFileLockSync(path, () => {
      expect(statSync(lockPathFor(path)).mode & 0o777).toBe(0o600);
      expect(statSync(join(root, 'new-dir')).mode & 0o777).toBe(0o700);
    });
  });
});

describe('isStaleLock', () => {
  const now = 1_000_000;
  it('a young, partly written lock is alive (the holder is between create and write)', () => {
    expect(isStaleLock('', now, now, 60_000)).toBe(false);
  });
  it('a lock of a live foreign process is alive until staleAfterMs', () => {
    expect(isStaleLock(`${process.ppid} 00aa\n`, now, now, 60_000)).toBe(false);
    expect(isStaleLock(`${process.ppid} 00aa\n`, now - 60_001, now, 60_000)).toBe(true);
  });
});
