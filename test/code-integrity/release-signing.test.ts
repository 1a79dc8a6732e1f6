import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run, runScript, type TempDirectory, toolsPresent } from './sandbox.js';

/**
 * scripts/release-sign.sh and scripts/verify-release.sh with throwaway keys in a temp dir: a signed
 * fake release verifies, then verification fails on a tampered artifact, on a tampered SHA256SUMS
 * (even one whose checksums were recomputed to match), on the wrong key and on a rolled-back version.
 */

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function fakeRelease(directory: TempDirectory): string {
  const release = join(directory.path, 'release');
  directory.write('release/cliproxyapi-9.9.9.tgz', 'fake tarball bytes\n');
  directory.write('release/sbom.cdx.json', '{"bomFormat":"CycloneDX"}\n');
  return release;
}

const minisignReady = toolsPresent('release signing tests (minisign)', ['minisign', 'b2sum']);

/**
 * Writes `plainKeyFile` (a `minisign -G -W` key, no password) to `lockedKeyFile` encrypted under
 * `password` the way minisign does it, but with the lowest scrypt cost minisign reads from the file
 * (opslimit 32768, memlimit 16 MiB: N=1024, r=8, p=1). `minisign -G` with a password always uses its
 * "sensitive" cost, seconds of CPU per use; three uses made this test the slowest of the suite and
 * a timeout under load, for a check (is the password passed, is a wrong one refused) that does not
 * depend on the cost. Secret key layout (minisign.h, base64 on the second line): sig_alg[2]
 * kdf_alg[2] chk_alg[2] salt[32] opslimit[8 LE] memlimit[8 LE] keynum[8] sk[64] chk[32], where
 * chk = BLAKE2b-256(sig_alg || keynum || sk) and keynum..chk are XORed with scrypt(password, salt).
 */
function lockWithCheapPassword(plainKeyFile: string, lockedKeyFile: string, password: string): void {
  const raw = Buffer.from(readFileSync(plainKeyFile, 'utf8').split('\n')[1] ?? '', 'base64');
  expect(raw.length).toBe(158);
  const keyStart = 54;
  const checksumInput = Buffer.concat([raw.subarray(0, 2), raw.subarray(keyStart, keyStart + 72)]);
  // Node's crypto offers BLAKE2b only with a 512-bit output, which is not BLAKE2b-256 truncated.
  const checksum = run('b2sum', ['-l', '256'], { cwd: dirname(plainKeyFile), input: checksumInput });
  Buffer.from(checksum.stdout.slice(0, 64), 'hex').copy(raw, keyStart + 72);
  const salt = randomBytes(32);
  raw.write('Sc', 2, 'latin1');
  salt.copy(raw, 6);
  raw.writeBigUInt64LE(32_768n, 38);
  raw.writeBigUInt64LE(16n * 1024n * 1024n, 46);
  const stream = scryptSync(password, salt, 104, { N: 1024, r: 8, p: 1 });
  for (let index = 0; index < 104; index++) raw[keyStart + index]! ^= stream[index]!;
  writeFileSync(lockedKeyFile, `untrusted comment: minisign encrypted secret key\n${raw.toString('base64')}\n`, { mode: 0o600 });
}

describe.skipIf(!minisignReady)('minisign release signing', () => {
  let directory: TempDirectory;
  let release: string;
  let secretKey: string;
  let publicKey: string;

  beforeEach(() => {
    directory = createTempDirectory('release');
    secretKey = join(directory.path, 'release.key');
    publicKey = join(directory.path, 'release.pub');
    // -W: no password, a throwaway key for this test only.
    expect(run('minisign', ['-G', '-W', '-s', secretKey, '-p', publicKey], { cwd: directory.path }).status).toBe(0);
    release = fakeRelease(directory);
    const signed = runScript('release-sign.sh', ['--minisign-key', secretKey, '--version', '9.9.9', release]);
    expect(signed.stderr).toBe('');
    expect(signed.status).toBe(0);
  });

  afterEach(() => directory.cleanup());

  const verify = (...extra: string[]) => runScript('verify-release.sh', ['--minisign-pubkey', publicKey, ...extra, release]);

  it('writes SHA256SUMS over every artifact and a detached signature', () => {
    const sums = readFileSync(join(release, 'SHA256SUMS'), 'utf8');
    expect(sums).toBe(
      `${sha256(join(release, 'cliproxyapi-9.9.9.tgz'))}  cliproxyapi-9.9.9.tgz\n${sha256(join(release, 'sbom.cdx.json'))}  sbom.cdx.json\n`,
    );
    expect(existsSync(join(release, 'SHA256SUMS.minisig'))).toBe(true);
  });

  it('verifies the untouched release, with and without the expected version', () => {
    const result = verify('--version', '9.9.9');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('OK: 2 artifact(s) verified');
    expect(verify().status).toBe(0);
  });

  it('fails on a tampered artifact', () => {
    appendFileSync(join(release, 'cliproxyapi-9.9.9.tgz'), 'backdoor');
    const result = verify();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('cliproxyapi-9.9.9.tgz does not match SHA256SUMS');
  });

  it('fails on a tampered SHA256SUMS, even when it matches the tampered artifact', () => {
    const tarball = join(release, 'cliproxyapi-9.9.9.tgz');
    appendFileSync(tarball, 'backdoor');
    const sums = readFileSync(join(release, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]{64}(?= {2}cliproxyapi)/m, sha256(tarball));
    writeFileSync(join(release, 'SHA256SUMS'), sums);
    const result = verify();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('signature of SHA256SUMS does not verify');
  });

  it('fails with another key, a missing signature, or an older release presented as this one', () => {
    const otherKey = join(directory.path, 'other.key');
    const otherPublicKey = join(directory.path, 'other.pub');
    run('minisign', ['-G', '-W', '-s', otherKey, '-p', otherPublicKey], { cwd: directory.path });
    expect(runScript('verify-release.sh', ['--minisign-pubkey', otherPublicKey, release]).status).toBe(1);

    const rollback = verify('--version', '10.0.0');
    expect(rollback.status).toBe(1);
    expect(rollback.stderr).toContain('rolled-back');

    run('rm', [join(release, 'SHA256SUMS.minisig')], { cwd: directory.path });
    expect(verify().stderr).toContain('SHA256SUMS.minisig is missing');
  });

  it('fails on a removed artifact and on a malformed or path-traversing checksum line', () => {
    run('rm', [join(release, 'sbom.cdx.json')], { cwd: directory.path });
    expect(verify().stderr).toContain('sbom.cdx.json is listed in SHA256SUMS but missing');

    directory.write('release/sbom.cdx.json', '{"bomFormat":"CycloneDX"}\n');
    appendFileSync(join(release, 'SHA256SUMS'), `${'0'.repeat(64)}  ../outside\n`);
    // An attacker cannot re-sign; re-signing here isolates the line check from the signature check.
    const signAgain = run('minisign', ['-S', '-s', secretKey, '-m', join(release, 'SHA256SUMS'), '-x', join(release, 'SHA256SUMS.minisig')], {
      cwd: directory.path,
      input: '',
    });
    expect(signAgain.status).toBe(0);
    const result = verify();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('malformed');
  });

  it('signs with a password-protected key when MINISIGN_PASSWORD is set, and refuses a wrong one', () => {
    const lockedKey = join(directory.path, 'locked.key');
    lockWithCheapPassword(secretKey, lockedKey, 'test-password-0001');
    expect(runScript('release-sign.sh', ['--minisign-key', lockedKey, release], { env: { MINISIGN_PASSWORD: 'wrong-password' } }).status).not.toBe(0);
    expect(runScript('release-sign.sh', ['--minisign-key', lockedKey, release], { env: { MINISIGN_PASSWORD: 'test-password-0001' } }).status).toBe(0);
    // The locked key is the throwaway key of beforeEach under a password: the same public key verifies.
    expect(verify().status).toBe(0);
  });

  it('refuses to sign without a key, or an empty or nested release directory', () => {
    expect(runScript('release-sign.sh', [release], { env: { MINISIGN_SECRET_KEY_FILE: '' } }).status).toBe(2);
    directory.write('empty/.keep', '');
    run('rm', [join(directory.path, 'empty/.keep')], { cwd: directory.path });
    expect(runScript('release-sign.sh', ['--minisign-key', secretKey, join(directory.path, 'empty')]).status).toBe(2);
    directory.write('release/nested/file', 'x');
    expect(runScript('release-sign.sh', ['--minisign-key', secretKey, release]).status).toBe(2);
  });
});

const gpgReady = toolsPresent('release signing tests (gpg)', ['gpg', 'gpgv', 'gpgconf']);

describe.skipIf(!gpgReady)('gpg release signing', () => {
  let directory: TempDirectory;
  let gnupgHome: string;

  beforeEach(() => {
    directory = createTempDirectory('gpg');
    gnupgHome = join(directory.path, 'gnupg');
    run('mkdir', ['-m', '700', gnupgHome], { cwd: directory.path });
  });

  afterEach(() => {
    // gpg starts an agent per GNUPGHOME; stop it before deleting its socket directory.
    run('gpgconf', ['--kill', 'all'], { cwd: directory.path, env: { ...process.env, GNUPGHOME: gnupgHome } });
    directory.cleanup();
  });

  it('signs with a throwaway gpg key; gpgv verifies, then fails on tampering', () => {
    const environment = { ...process.env, GNUPGHOME: gnupgHome };
    const generated = run(
      'gpg',
      ['--batch', '--passphrase', '', '--quick-generate-key', 'Release Test <release-test@example.test>', 'ed25519', 'sign', 'never'],
      { cwd: directory.path, env: environment },
    );
    expect(generated.status).toBe(0);
    const release = fakeRelease(directory);
    const signed = runScript('release-sign.sh', ['--gpg-key', 'release-test@example.test', release], { env: { GNUPGHOME: gnupgHome } });
    expect(signed.status).toBe(0);
    const keyring = join(directory.path, 'release-keyring.gpg');
    expect(run('gpg', ['--batch', '--output', keyring, '--export', 'release-test@example.test'], { cwd: directory.path, env: environment }).status).toBe(0);

    const verify = () => runScript('verify-release.sh', ['--gpg-keyring', keyring, release], { env: { GNUPGHOME: gnupgHome } });
    expect(verify().status).toBe(0);
    appendFileSync(join(release, 'SHA256SUMS'), `${'1'.repeat(64)}  extra.bin\n`);
    expect(verify().stderr).toContain('gpg signature of SHA256SUMS does not verify');
  });
});
