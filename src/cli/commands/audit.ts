import type { Command } from 'commander';
import { resolve } from 'node:path';
import { AuditFileError, rotatedFilesOf } from '../../audit/audit-files.js';
import { loadAuditKey } from '../../audit/audit-key.js';
import { verifyAuditChain } from '../../audit/verify.js';
import { pathExists } from '../../files/secret-path-check.js';
import { CliExit, workingDirectoryOf, type CliIo } from '../cli-io.js';
import { configOptionFlags, configOptionHelp, loadConfigFor } from './encryption.js';

/**
 * `audit verify [FILE…]`: checks the hash chain of the audit log. Exit 0: intact; 1: a record was
 * edited, dropped, inserted or reordered (the first one is named); 2: the check could not run (a
 * file missing, the key needed but not given). Reads only: it never opens the log for writing.
 */
export function registerAuditCommand(program: Command, io: CliIo): void {
  const audit = program
    .command('audit')
    .description('check the tamper-evident audit log')
    .addHelpText(
      'after',
      `
Each record carries the hash of the one before it (HMAC-SHA-256 under audit.key_file when set,
plain SHA-256 otherwise), across rotated files. Files are read, never written.

Examples:
  $ cliproxyapi audit verify                          # audit.file and its rotated files, oldest first
  $ cliproxyapi audit verify data/logs/audit.000000004711.jsonl data/logs/audit.jsonl
  $ cliproxyapi audit verify --key-file /run/secrets/audit.key copy-of-audit.jsonl`,
    );

  audit
    .command('verify')
    .description('verify the hash chain; names the first edited, dropped, inserted or reordered record')
    .argument('[files...]', 'audit files of one chain, oldest first (default: audit.file and its rotated files)')
    .option('--key-file <file>', 'the audit key (default: audit.key_file from the config)')
    .option(configOptionFlags, configOptionHelp)
    .action(async (files: string[], options: { keyFile?: string; config?: string }) => {
      const cwd = workingDirectoryOf(io);
      const needsConfig = files.length === 0 || options.keyFile === undefined;
      const config = needsConfig ? loadConfigFor(options.config, io).config : undefined;
      const chain = files.length > 0 ? files.map((file) => resolve(cwd, file)) : await defaultChain(config?.audit.file ?? '');
      for (const file of chain) {
        if (!(await pathExists(file))) {
          io.stderr(`error: ${file} does not exist\n`);
          throw new CliExit(2);
        }
      }
      if (chain.length === 0) {
        io.stderr(`error: no audit file at ${config?.audit.file ?? '(none)'}; nothing to verify\n`);
        throw new CliExit(2);
      }
      const keyFile = options.keyFile === undefined ? config?.audit.key_file : resolve(cwd, options.keyFile);
      let key: Buffer | undefined;
      try {
        key = keyFile === undefined ? undefined : await loadAuditKey(keyFile, { create: false });
      } catch (error) {
        if (!(error instanceof AuditFileError)) throw error;
        io.stderr(`error: ${error.message}\n`);
        throw new CliExit(2);
      }
      const result = await verifyAuditChain(chain, key);
      key?.fill(0);
      for (const note of result.notes) io.stderr(`note: ${note}\n`);
      if (!result.ok) {
        io.stdout(`audit chain BROKEN after ${result.records} intact record(s): ${result.problem ?? ''}\n`);
        throw new CliExit(result.problem?.includes('pass the audit key') === true ? 2 : 1);
      }
      io.stdout(`audit chain intact: ${result.records} record(s) in ${chain.length} file(s), ${key === undefined ? 'SHA-256 (no audit key)' : 'HMAC-SHA-256'}\n`);
    });
}

async function defaultChain(file: string): Promise<string[]> {
  if (file === '') return [];
  const rotated = await rotatedFilesOf(file);
  return (await pathExists(file)) ? [...rotated, file] : rotated;
}
