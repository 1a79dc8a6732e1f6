import { openAuditLog, type AuditLog } from '../audit/audit-log.js';
import type { AuditEvent } from '../audit/audit-record.js';
import type { LoadedConfig } from '../config/load.js';
import { createStderrSecurityEvents } from '../credentials/security-events.js';
import { redactText } from '../security/redact.js';
import type { CliIo } from './cli-io.js';

/**
 * The audit log of a CLI command: the same file and chain as the running server's (`audit.file`),
 * joined under the file's lock, so `creds delete` or `keys revoke` run beside `serve` appear in
 * the one chain. Opened when a command first records, closed (flushed) by `runCli` after the
 * command, whatever its outcome: `closeCliAuditLogs`. An unsafe audit file (a symlink, loose
 * modes) refuses the command before it changes anything. Records of CLI commands go to the file
 * only, never to stdout (`audit.stdout` is the server's: a command's stdout is its output).
 */
const openLogs = new Set<AuditLog>();

export async function openCliAuditLog(loaded: LoadedConfig, io: CliIo): Promise<AuditLog> {
  const audit = await openAuditLog(loaded.config, {
    createKey: true,
    fallback: createStderrSecurityEvents((line) => io.stderr(line)),
    onError: () => undefined, // close() reports the failure once, with the exit code
    stdout: () => undefined,
  });
  openLogs.add(audit);
  return audit;
}

/**
 * For commands that only read (`creds list`, `encryption status`): nothing is opened or created
 * unless an event is recorded (an unreadable credential); then the log is opened when the command
 * ends, and the events written.
 */
export function lazyCliAuditLog(loaded: LoadedConfig, io: CliIo): AuditLog {
  const pending: AuditEvent[] = [];
  const lazy: AuditLog = {
    file: loaded.config.audit.enabled ? loaded.config.audit.file : undefined,
    record: (event) => void pending.push(event),
    recordSerialized: () => undefined,
    flush: () => Promise.resolve(),
    async close() {
      if (pending.length === 0) return;
      const audit = await openCliAuditLog(loaded, io);
      openLogs.delete(audit);
      for (const event of pending.splice(0)) audit.record(event);
      await audit.close();
    },
  };
  openLogs.add(lazy);
  return lazy;
}

/** Flushes every audit log the command opened; returns false (after printing why) when one could not be written. */
export async function closeCliAuditLogs(io: CliIo): Promise<boolean> {
  let written = true;
  for (const audit of openLogs) {
    openLogs.delete(audit);
    try {
      await audit.close();
    } catch (error) {
      written = false;
      io.stderr(`error: the audit records of this command could not be written to ${audit.file ?? 'the audit log'}: ${redactText((error as Error).message)}\n`);
    }
  }
  return written;
}
