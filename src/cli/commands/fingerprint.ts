import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { fingerprintPathFor, loadOrCreateFingerprint } from '../../security/fingerprint.js';
import { environmentOf, resolveConfigPath, workingDirectoryOf, type CliIo } from '../cli-io.js';

/**
 * `fingerprint`: prints the device fingerprint this install sends upstream as X-Device-Fingerprint
 * (to providers with `device_fingerprint: true`), creating it on first use. The value alone goes
 * to stdout, so scripts can capture it; where it lives goes to stderr.
 */
export function registerFingerprintCommand(program: Command, io: CliIo): void {
  program
    .command('fingerprint')
    .description('print the device fingerprint (created once, then stable)')
    .option('-c, --config <file>', 'config file (default: $CLIPROXY_CONFIG, then ./config.yaml, then the built-in default)')
    .addHelpText(
      'after',
      `
The fingerprint is SHA-256 over this machine's first non-loopback MAC, its host name and a random
per-install salt, stored 0600 as fingerprint.json beside auth.dir. It does not change when the MAC
or host name changes (containers); delete the file to make a new one.

Example:
  $ cliproxyapi fingerprint --config /etc/cliproxyapi/config.yaml`,
    )
    .action((options: { config?: string }) => {
      const path = resolveConfigPath(options.config, io);
      const loaded = loadConfig({ ...(path === undefined ? {} : { path }), env: environmentOf(io), cwd: workingDirectoryOf(io) });
      const fingerprint = loadOrCreateFingerprint(fingerprintPathFor(loaded.config.auth.dir));
      io.stdout(`${fingerprint.value}\n`);
      const source = fingerprint.source === 'mac' ? 'network interface MAC + host name + salt' : 'random id + host name + salt (no MAC found)';
      io.stderr(`${fingerprint.created ? 'created' : 'read'} ${fingerprint.path} (${source})\n`);
    });
}
