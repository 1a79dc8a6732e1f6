import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { realpath, stat } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import type { ReadonlyConfig } from '../config/schema.js';
import { openSslCipherList } from '../config/tls-cipher-suites.js';
import type { OperatorCodeFor } from '../errors/operator-codes.js';
import { readRegularFile } from '../files/read-file.js';
import { isInsideOrAt } from '../files/read-only-mount.js';
import { checkSecretPath, formatFinding, secretPathProblems } from '../files/secret-path-check.js';

/**
 * The certificate and key of the TLS listener: read, checked and turned into Node TLS options.
 * Used at start (a problem refuses the start) and by the reloader (a problem keeps the old pair).
 * No message built here contains key material: OpenSSL's reasons name what failed, not the bytes.
 */

/** A PEM chain or key is a few KiB; 1 MiB bounds a mistaken path (a log file, a device). */
const maxPemBytes = 1024 * 1024;

export type TlsConfig = ReadonlyConfig['server']['tls'];

/** Why TLS could not start; the CLI prints the code (docs/errors.md, operator errors). */
export class TlsStartupError extends Error {
  constructor(
    message: string,
    readonly code: OperatorCodeFor<'TlsStartupError'>,
  ) {
    super(message);
    this.name = 'TlsStartupError';
  }
}

/** The protocol and suite options, fixed at start (server.tls.* is restart-only). */
export function tlsProtocolOptions(tls: TlsConfig): SecureContextOptions {
  return {
    minVersion: tls.min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
    ciphers: openSslCipherList(tls.cipher_suites, tls.cipher_suites_tls13),
    // The server's order wins: a client preferring a weaker accepted suite does not get it.
    honorCipherOrder: true,
  };
}

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/**
 * The key file's path to check. A Kubernetes Secret volume presents `tls.key` as a symlink to
 * `..data/tls.key` inside the same mount, swapped atomically on update: that link stays inside the
 * directory, so the file it points to is checked. A link out of the directory is checked as the
 * link, which `checkSecretPath` refuses.
 */
async function keyPathToCheck(keyFile: string): Promise<string> {
  const target = await realpath(keyFile).catch(() => keyFile);
  const directory = await realpath(dirname(keyFile)).catch(() => dirname(keyFile));
  return relative(directory, target) !== '' && isInsideOrAt(directory, target) ? target : keyFile;
}

/**
 * Reads the pair and proves it usable: the key file passes the secret-path check (mode 0600 or
 * stricter, owned by us or root, no symlink out of its directory), both parse, and the key matches
 * the certificate (`createSecureContext` refuses a mismatch). Throws TlsStartupError.
 */
export async function loadTlsPair(tls: TlsConfig): Promise<TlsPair> {
  const keyPath = await keyPathToCheck(tls.key_file);
  const findings = await checkSecretPath(keyPath, { kind: 'file', containingDirectory: dirname(keyPath) });
  if (findings.length > 0) {
    throw new TlsStartupError(`server.tls.key_file is not private:\n  ${findings.map(formatFinding).join('\n  ')}`, 'TLS_KEY_FILE_UNSAFE');
  }
  let cert: Buffer;
  let key: Buffer;
  try {
    // The certificate is public: a symlink to it is fine. The key is read without following one.
    cert = (await readRegularFile(tls.cert_file, { maxBytes: maxPemBytes, followSymlinks: true })).content;
    const opened = await readRegularFile(keyPath, { maxBytes: maxPemBytes });
    key = opened.content;
    // Checked again on the descriptor that was read: a file swapped in after the path check is caught.
    const late = secretPathProblems(keyPath, opened.stats, 'file');
    if (late.length > 0) {
      key.fill(0);
      throw new TlsStartupError(`server.tls.key_file is not private:\n  ${late.map((problem) => `${keyPath}: ${problem.problem}; fix: ${problem.fix}`).join('\n  ')}`, 'TLS_KEY_FILE_UNSAFE');
    }
  } catch (error) {
    if (error instanceof TlsStartupError) throw error;
    throw new TlsStartupError(`server.tls: cannot read the certificate or key (${describe(error)})`, 'TLS_CERTIFICATE_INVALID');
  }
  try {
    // OpenSSL drops a key that does not match the certificate without an error (the handshake
    // then fails for every client), so the match is checked here, before the pair is used.
    const certificate = new X509Certificate(cert);
    if (!certificate.checkPrivateKey(createPrivateKey(key))) throw Object.assign(new Error('the key does not match the certificate'), { reason: 'the key does not match the certificate' });
    createSecureContext({ ...tlsProtocolOptions(tls), cert, key });
  } catch (error) {
    key.fill(0);
    throw new TlsStartupError(`server.tls: the certificate and key are not a usable pair (${describe(error)})`, 'TLS_CERTIFICATE_INVALID');
  }
  return { cert, key };
}

/** An error's code and OpenSSL reason, never its bytes: the message of a PEM parse failure holds no key material. */
function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === 'string') return reason;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message.split('\n', 1)[0] ?? 'unknown error' : 'unknown error';
}

/**
 * The CA bundle behind `server.tls.management_client_ca_file` (mTLS for the management scope), or
 * undefined when the key is absent. Not a secret, but whoever can write it can mint management
 * client certificates, so its integrity is checked like a secret path's: a regular file, not
 * writable by group or others, owned by the proxy's uid or root, in a directory group and others
 * cannot write to (readable by all is fine). Every PEM block must be a certificate and at least one
 * must be a CA (basicConstraints CA:TRUE): a leaf pasted here by mistake is refused at start rather
 * than turning every management call into a refusal. Throws TlsStartupError `TLS_CLIENT_CA_INVALID`.
 */
export async function loadManagementClientCa(tls: TlsConfig): Promise<Buffer | undefined> {
  const file = tls.management_client_ca_file;
  if (file === undefined) return undefined;
  const refuse = (why: string) => new TlsStartupError(`server.tls.management_client_ca_file ${file}: ${why}`, 'TLS_CLIENT_CA_INVALID');
  let content: Buffer;
  try {
    const opened = await readRegularFile(file, { maxBytes: maxPemBytes, followSymlinks: true });
    content = opened.content;
    const directoryStats = await stat(dirname(file));
    const problems = [...writableByOthers(file, opened.stats.mode, opened.stats.uid), ...writableByOthers(dirname(file), directoryStats.mode, directoryStats.uid, 'directory')];
    if (problems.length > 0) throw refuse(problems.join('; '));
  } catch (error) {
    if (error instanceof TlsStartupError) throw error;
    throw refuse(`cannot be read (${describe(error)})`);
  }
  const blocks = content.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw refuse('holds no PEM certificate');
  let authorities = 0;
  for (const block of blocks) {
    try {
      if (new X509Certificate(block).ca) authorities += 1;
    } catch (error) {
      throw refuse(`holds a certificate that does not parse (${describe(error)})`);
    }
  }
  if (authorities === 0) throw refuse('holds no CA certificate (basicConstraints CA:TRUE): client certificates are verified against a CA, not a leaf');
  return content;
}

/** Group/other write bits and foreign ownership: the rules that keep others from swapping a trust anchor. */
function writableByOthers(path: string, mode: number, uid: number, kind: 'file' | 'directory' = 'file'): string[] {
  if (process.platform === 'win32') return [];
  const problems: string[] = [];
  // A sticky directory (/tmp, 1777) lets no one else rename or delete our file in it.
  const sticky = kind === 'directory' && (mode & 0o1000) !== 0;
  if ((mode & 0o022) !== 0 && !sticky) problems.push(`${kind === 'file' ? '' : `its directory ${path} `}mode ${(mode & 0o777).toString(8).padStart(4, '0')} lets group or others write it (fix: chmod go-w ${path})`);
  const own = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (kind === 'file' && own !== undefined && uid !== own && uid !== 0) problems.push(`is owned by uid ${uid}, not by the proxy's uid ${own} or root (fix: chown ${own} ${path})`);
  return problems;
}
