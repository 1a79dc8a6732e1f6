import { randomBytes } from 'node:crypto';
import { createPrivateFileExclusive } from '../files/private-file.js';
import { FileReadError, readRegularFile } from '../files/read-file.js';
import { secretReadPath } from '../files/read-only-mount.js';
import { secretPathProblems } from '../files/secret-path-check.js';
import { AuditFileError } from './audit-files.js';

/**
 * The audit key (`audit.key_file`): 32 random bytes as 64 hex digits, mode 0600, read without
 * following a symlink. With it the chain is HMAC-SHA-256: whoever can edit the log but cannot read
 * this file cannot produce a valid chain. Keep it where the log's readers and shippers do not see
 * it (another volume, a secret mount); `audit verify` needs it.
 */

const keyPattern = /^([0-9a-f]{64})\s*$/;

/** Reads the key; with `create`, writes a new one when the file does not exist (serve, at first start). */
export async function loadAuditKey(path: string, options: { create: boolean }): Promise<Buffer> {
  let content: Buffer;
  try {
    // A key from an orchestrator's Secret (symlinks inside a read-only mount) is read at its target.
    const target = secretReadPath(path);
    const read = await readRegularFile(target, { maxBytes: 1024 });
    const problems = secretPathProblems(target, read.stats, 'file');
    if (problems.length > 0) {
      read.content.fill(0);
      throw new AuditFileError(`audit key ${path} ${problems.map((problem) => `${problem.problem} (fix: ${problem.fix})`).join('; ')}`);
    }
    content = read.content;
  } catch (error) {
    if (!(error instanceof FileReadError) || error.reason !== 'missing' || !options.create) {
      if (error instanceof FileReadError) throw new AuditFileError(`audit key ${error.message}`);
      throw error;
    }
    const fresh = randomBytes(32);
    // Exclusive: two processes starting at once agree on one key (the loser reads the winner's).
    if (await createPrivateFileExclusive(path, `${fresh.toString('hex')}\n`)) return fresh;
    return loadAuditKey(path, { create: false });
  }
  const match = keyPattern.exec(content.toString('utf8'));
  content.fill(0);
  if (match?.[1] === undefined) throw new AuditFileError(`audit key ${path} does not hold 64 hex digits (32 bytes); write one with: openssl rand -hex 32 > ${path}`);
  return Buffer.from(match[1], 'hex');
}
