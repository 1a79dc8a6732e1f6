import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDirectory, projectRoot, runScript, type TempDirectory } from './sandbox.js';

/**
 * The dependency policy (scripts/lockfile-check.sh, lockfile-lint) accepts this repository's
 * lockfile and rejects lockfiles that fetch from elsewhere; the SBOM (scripts/sbom.sh, CycloneDX)
 * lists exactly the production dependencies at their locked versions.
 */

interface LockfilePackage {
  resolved?: string;
  integrity?: string;
}
interface Lockfile {
  packages: Record<string, LockfilePackage>;
}
interface PackageManifest {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
interface CycloneDxBom {
  bomFormat: string;
  specVersion: string;
  serialNumber?: string;
  metadata: { timestamp?: string; component?: { name: string } };
  components: { name: string; group?: string; version: string; purl: string }[];
}

const lockfileText = readFileSync(join(projectRoot, 'package-lock.json'), 'utf8');
const manifest = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as PackageManifest;

let directory: TempDirectory;
beforeAll(() => {
  directory = createTempDirectory('dependency-policy');
});
afterAll(() => directory.cleanup());

/** A copy of the real lockfile with its first installed package rewritten by `tamper`. */
function tamperedLockfile(name: string, tamper: (entry: LockfilePackage, packageName: string) => void): string {
  const lockfile = JSON.parse(lockfileText) as Lockfile;
  const entry = Object.entries(lockfile.packages).find(([path, value]) => path.startsWith('node_modules/') && value.integrity);
  if (!entry) throw new Error('no installed package in package-lock.json');
  tamper(entry[1], entry[0].slice('node_modules/'.length));
  return directory.write(`${name}/package-lock.json`, JSON.stringify(lockfile, null, 2));
}

const tarball = (host: string, packageName: string) => `${host}/${packageName}/-/${packageName.split('/').pop()}-1.0.0.tgz`;

describe('lockfile policy', () => {
  it('accepts this repository lockfile', () => {
    const result = runScript('lockfile-check.sh', []);
    expect(result.stdout + result.stderr).toContain('No issues detected');
    expect(result.stdout).toMatch(/lockfile-integrity: \d+ packages with sha512 integrity/);
    expect(result.status).toBe(0);
  });

  it.each([
    ['a foreign registry host', (entry: LockfilePackage, name: string) => (entry.resolved = tarball('https://registry.evil.example', name))],
    ['plain http', (entry: LockfilePackage, name: string) => (entry.resolved = tarball('http://registry.npmjs.org', name))],
    ['a sha1 integrity hash', (entry: LockfilePackage) => (entry.integrity = 'sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=')],
    ['a missing integrity hash', (entry: LockfilePackage) => delete entry.integrity],
    ['a tarball of another package', (entry: LockfilePackage) => (entry.resolved = 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz')],
    ['a git dependency', (entry: LockfilePackage) => (entry.resolved = 'git+ssh://git@github.com/example/example.git#0123456789abcdef')],
  ])('rejects %s', (name, tamper) => {
    const path = tamperedLockfile(name.replace(/\W+/g, '-'), tamper);
    expect(runScript('lockfile-check.sh', [path]).status).not.toBe(0);
  });

  it('rejects entries without a resolved URL when npm would fetch them from another registry', () => {
    const result = runScript('lockfile-check.sh', [], { env: { npm_config_registry: 'https://registry.evil.example/' } });
    const lockfile = JSON.parse(lockfileText) as Lockfile;
    const withoutResolved = Object.entries(lockfile.packages).filter(([path, entry]) => path !== '' && !entry.resolved).length;
    expect(result.status).toBe(withoutResolved > 0 ? 1 : 0);
  });
});

describe('CycloneDX SBOM', () => {
  it('lists the production dependencies at their locked versions, reproducibly, without dev tools', () => {
    const output = join(directory.path, 'sbom.cdx.json');
    const result = runScript('sbom.sh', [output]);
    expect(result.status).toBe(0);
    const bom = JSON.parse(readFileSync(output, 'utf8')) as CycloneDxBom;
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.specVersion).toBe('1.6');
    expect(bom.metadata.component?.name).toBe('cliproxyapi');
    expect(bom.metadata.timestamp).toBeUndefined();
    const fullName = (component: CycloneDxBom['components'][number]) => (component.group ? `${component.group}/${component.name}` : component.name);
    for (const [name, version] of Object.entries(manifest.dependencies)) {
      const component = bom.components.find((candidate) => fullName(candidate) === name);
      expect(component, `${name} in the SBOM`).toBeDefined();
      expect(component!.version).toBe(version);
      expect(component!.purl).toContain('pkg:npm/');
    }
    for (const name of Object.keys(manifest.devDependencies)) {
      expect(bom.components.some((candidate) => fullName(candidate) === name), `${name} is a dev tool`).toBe(false);
    }
  }, 60_000);
});
