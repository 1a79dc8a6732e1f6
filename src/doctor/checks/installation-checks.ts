import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pass, warn, type CheckResult } from '../check-result.js';

/**
 * The installation itself, looked up beside the package that is running (found from this file,
 * never from the working directory): its own lockfile agreeing with its package.json and with what
 * is installed in its node_modules (`installation-lockfile`), and the CycloneDX SBOM a release ships
 * (`installation-sbom`). An npm install carries neither file, so these warn at most: they tell an
 * operator what cannot be verified about the code that runs, they do not judge the deployment.
 */

interface PackageJson {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface Lockfile {
  name?: string;
  version?: string;
  packages?: Record<string, { version?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string>; dev?: boolean }>;
}

/** The directory holding our package.json: up from this module (src/doctor/checks or dist/doctor/checks). */
export function packageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let directory = start;
  for (;;) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, 'utf8')) as PackageJson).name === 'cliproxyapi') return directory;
      } catch {
        // An unreadable package.json on the way is not ours; keep climbing.
      }
    }
    if (dirname(directory) === directory) return undefined;
    directory = dirname(directory);
  }
}

function sameEntries(left: Record<string, string> = {}, right: Record<string, string> = {}): string[] {
  const names = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...names].filter((name) => left[name] !== right[name]).sort().map((name) => `${name}: package.json ${left[name] ?? '(absent)'}, lockfile ${right[name] ?? '(absent)'}`);
}

export function checkInstallationLockfile(root: string | undefined = packageRoot()): CheckResult {
  if (root === undefined) return warn('installation-lockfile', 'the cliproxyapi package directory was not found beside the running code', 'run the doctor of the installed package (node /app/dist/cli/main.js doctor)');
  const lockPath = join(root, 'package-lock.json');
  if (!existsSync(lockPath)) return warn('installation-lockfile', `no package-lock.json beside the package (${root}): the installed dependency tree cannot be compared with the reviewed one`, 'install from the repository or release with `npm ci`, which keeps the lockfile');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as Lockfile;
  const top = lock.packages?.[''];
  const mismatches = [
    ...(lock.name === manifest.name && lock.version === manifest.version ? [] : [`name/version: package.json ${manifest.name}@${manifest.version}, lockfile ${lock.name}@${lock.version}`]),
    ...sameEntries(manifest.dependencies, top?.dependencies),
    ...sameEntries(manifest.devDependencies, top?.devDependencies),
  ];
  // What is installed must be what the lockfile pinned (production dependencies; dev ones may be absent).
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    const installedPath = join(root, 'node_modules', name, 'package.json');
    const locked = lock.packages?.[`node_modules/${name}`]?.version;
    if (!existsSync(installedPath)) {
      mismatches.push(`${name}: not installed in ${join(root, 'node_modules')}`);
      continue;
    }
    const installed = (JSON.parse(readFileSync(installedPath, 'utf8')) as PackageJson).version;
    if (installed !== locked) mismatches.push(`${name}: installed ${installed ?? '?'}, lockfile ${locked ?? '(absent)'}`);
  }
  if (mismatches.length > 0) return warn('installation-lockfile', `package-lock.json does not match the package (${mismatches.length} difference(s))`, 'reinstall with `npm ci` from the released lockfile; investigate a difference you did not make', mismatches);
  return pass('installation-lockfile', `package-lock.json matches package.json and node_modules (${Object.keys(manifest.dependencies ?? {}).length} production dependencies)`);
}

export function checkInstallationSbom(root: string | undefined = packageRoot()): CheckResult {
  if (root === undefined) return warn('installation-sbom', 'the cliproxyapi package directory was not found', 'run the doctor of the installed package');
  const sboms = readdirSync(root).filter((name) => name.endsWith('.cdx.json'));
  if (sboms.length === 0) return warn('installation-sbom', `no CycloneDX SBOM (*.cdx.json) beside the package (${root})`, 'keep the release\'s cliproxyapi-X.Y.Z.cdx.json beside the package (docs/security/releases.md), or build one with `npm run sbom`');
  return pass('installation-sbom', `SBOM present: ${sboms.join(', ')}`);
}
