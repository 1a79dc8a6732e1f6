import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatReport } from '../../doctor/format-report.js';
import { runDoctor } from '../../doctor/run-doctor.js';
import { CliExit, environmentOf, resolveConfigPath, workingDirectoryOf, type CliIo } from '../cli-io.js';
import { parseWorkersOption } from '../workers-option.js';
import { configOptionFlags, configOptionHelp } from './encryption.js';
import { packageVersion } from './version.js';

function parseReplicas(value: string): number {
  if (!/^[0-9]+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 1000) throw new InvalidArgumentError('a whole number from 1 to 1000');
  return Number(value);
}

function parseWorkers(value: string): number {
  try {
    return parseWorkersOption(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('an http:// or https:// URL of the running proxy (scheme, host and port)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('an http:// or https:// URL');
  if (url.username !== '' || url.password !== '') throw new InvalidArgumentError('no credentials in the URL; the management key comes from CLIPROXY_MANAGEMENT_KEY');
  return url.origin;
}

/**
 * `doctor`: the security checklist of the spec, automated. Thin: parse, run the checks
 * (src/doctor/), print. Read-only; exit 1 on a failed check (or a warning with --strict).
 */
export function registerDoctorCommand(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .description('check a deployment against the security checklist (read-only); exit 1 on a failed check')
    .option(configOptionFlags, configOptionHelp)
    .option('--json', 'print exactly one JSON document (docs/doctor-report.schema.json) on stdout and nothing else')
    .option('--strict', 'exit 1 on a warning too')
    .option('--url <url>', 'the running proxy, for the post-deployment checks (management key from CLIPROXY_MANAGEMENT_KEY)', parseUrl)
    .option('--replicas <n>', 'how many replicas the deployment runs (several need state.backend: redis)', parseReplicas, 1)
    .option('--workers <n>', 'serve --workers per replica', parseWorkers, 1)
    .addOption(new Option('--container <mode>', 'auto: judge this process when it runs in a container; yes: always; no: this is not the deployment\'s container (a CI runner)').choices(['auto', 'yes', 'no']).default('auto'))
    .addHelpText(
      'after',
      `
Each check prints PASS, WARN, FAIL or SKIP with the fix. It reads the config, the secret files, the
audit log and (with --url) the running proxy's management API; it creates, generates and repairs
nothing (serve --fix-permissions and creds check --fix-permissions repair modes). Run it as the
service user: file ownership is judged against the uid that runs it.

Exit code: 0 when no check failed (with --strict: and none warned), 1 otherwise.

Examples:
  $ cliproxyapi doctor --config /etc/cliproxyapi/config.yaml
  $ cliproxyapi doctor --config config.yaml --strict --json > doctor.json   # a CI gate
  $ cliproxyapi doctor --config config.yaml --replicas 3 --container no  # in CI: the runner is not the deployment
  $ kubectl exec deploy/cliproxyapi -- /nodejs/bin/node /app/dist/cli/main.js doctor --config /config/config.yaml
  $ CLIPROXY_MANAGEMENT_KEY=... cliproxyapi doctor --config config.yaml --url https://127.0.0.1:8317`,
    )
    .action(async (options: { config?: string; json?: boolean; strict?: boolean; url?: string; replicas: number; workers: number; container: 'auto' | 'yes' | 'no' }) => {
      const report = await runDoctor({
        configPath: resolveConfigPath(options.config, io),
        env: environmentOf(io),
        cwd: workingDirectoryOf(io),
        strict: options.strict === true,
        replicas: options.replicas,
        workers: options.workers,
        url: options.url,
        containerMode: options.container,
        version: packageVersion(),
      });
      io.stdout(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      if (report.exit_code !== 0) throw new CliExit(report.exit_code);
    });
}
