import { Command, CommanderError } from 'commander';
import { isConfigError } from '../config/config-error.js';
import { CredentialStartupError } from '../credentials/startup-checks.js';
import { operatorCodeOf } from '../errors/operator-codes.js';
import { redactText } from '../security/redact.js';
import { closeCliAuditLogs } from './cli-audit.js';
import { CliExit, processIo, type CliIo } from './cli-io.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerConfigCommand } from './commands/config-check.js';
import { registerCredsCommand } from './commands/creds.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerEncryptionCommand } from './commands/encryption.js';
import { registerFingerprintCommand } from './commands/fingerprint.js';
import { registerKeysCommand } from './commands/keys.js';
import { registerLoginCommand } from './commands/login.js';
import { registerManagementKeysCommand } from './commands/management-keys.js';
import { registerServeCommand } from './commands/serve.js';
import { registerUsageCommand } from './commands/usage.js';
import { packageVersion, registerVersionCommand } from './commands/version.js';

/**
 * The `cliproxyapi` command tree. exitOverride makes commander throw instead of calling
 * process.exit, so runCli decides the exit code and tests can run commands in-process.
 */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('cliproxyapi');
  program
    .description('security-hardened multi-provider LLM API proxy (OpenAI and Anthropic wire formats)')
    .version(packageVersion(), '-v, --version', 'print the version')
    .configureOutput({ writeOut: (text) => io.stdout(text), writeErr: (text) => io.stderr(text) })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  $ cliproxyapi serve --config config.yaml      start the proxy
  $ cliproxyapi config check config.yaml        validate a config without starting
  $ cliproxyapi keys create --id alice          create a client key (printed once)
  $ cliproxyapi keys list                       list client key ids
  $ cliproxyapi audit verify                    check the audit log's hash chain
  $ cliproxyapi doctor --config config.yaml     check the deployment against the security checklist
  $ cliproxyapi login claude                    sign in to a Claude account (codex, gemini too)
  $ cliproxyapi management-keys create --id ops --role admin   a management API key (printed once)

Environment:
  CLIPROXY_CONFIG          config file when --config is not given
  CLIPROXY_<PATH>          override a config value, e.g. CLIPROXY_SERVER_PORT=9000`,
    );
  registerServeCommand(program, io);
  registerConfigCommand(program, io);
  registerKeysCommand(program, io);
  registerManagementKeysCommand(program, io);
  registerEncryptionCommand(program, io);
  registerCredsCommand(program, io);
  registerLoginCommand(program, io);
  registerFingerprintCommand(program, io);
  registerAuditCommand(program, io);
  registerUsageCommand(program, io);
  registerDoctorCommand(program, io);
  registerVersionCommand(program, io);
  return program;
}

/**
 * Runs the CLI on `args` (without the node and script entries) and returns the exit code.
 * Every failure ends as a message on stderr, never a stack trace: a ConfigError prints each
 * problem on its own line, anything else its one-line message.
 */
export async function runCli(args: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  let exitCode: number;
  try {
    await program.parseAsync([...args], { from: 'user' });
    exitCode = 0;
  } catch (error) {
    exitCode = exitCodeFor(error, io);
  }
  // The command's audit records reach the file before the process ends; a command whose records
  // could not be written does not report success.
  const audited = await closeCliAuditLogs(io);
  return audited || exitCode !== 0 ? exitCode : 1;
}

function exitCodeFor(error: unknown, io: CliIo): number {
  if (error instanceof CliExit) return error.exitCode;
  // Commander already printed its message (unknown option, missing argument, help, version).
  if (error instanceof CommanderError) return error.exitCode;
  // Errors that list several problems (config, credential startup checks) print every line:
  // each names a path and its fix.
  if (isConfigError(error) || error instanceof CredentialStartupError) {
    io.stderr(`error: ${redactText(error.message)}\n${codeLine(error)}`);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`error: ${redactText(message.split('\n')[0] ?? message)}\n${codeLine(error)}`);
  return 1;
}

/** `code: CONFIG_INVALID (docs/errors.md)` for errors from the operator catalog, so the fix can be looked up. */
export function codeLine(error: unknown): string {
  const code = operatorCodeOf(error);
  return code === undefined ? '' : `code: ${code} (docs/errors.md)\n`;
}
