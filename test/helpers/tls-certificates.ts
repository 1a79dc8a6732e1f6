import { execFile, spawn } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Certificates for TLS tests, generated at test time with the `openssl` CLI: a throwaway CA and
 * leaf certificates for `localhost` / 127.0.0.1 signed by it. No private key is committed; each
 * test run makes its own in its temp directory, and every key file is written mode 0600.
 */
const run = promisify(execFile);

export interface TestCertificateAuthority {
  directory: string;
  caCertFile: string;
  caKeyFile: string;
  /** The CA certificate (PEM), for a client's trust store. */
  caCert: Buffer;
}

export interface TestLeafCertificate {
  certFile: string;
  keyFile: string;
  /** The certificate's serial, as `openssl x509 -serial` prints it, to tell two leaves apart. */
  serial: string;
}

/** A CA valid for one day; P-256 keys (fast to generate). */
export async function createTestCertificateAuthority(directory: string): Promise<TestCertificateAuthority> {
  const caKeyFile = join(directory, 'test-ca.key');
  const caCertFile = join(directory, 'test-ca.crt');
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKeyFile]);
  await chmod(caKeyFile, 0o600);
  await run('openssl', ['req', '-x509', '-new', '-key', caKeyFile, '-out', caCertFile, '-days', '1', '-subj', '/CN=cliproxyapi test CA']);
  return { directory, caCertFile, caKeyFile, caCert: await readFile(caCertFile) };
}

/**
 * A leaf for localhost and 127.0.0.1, signed by `authority`, written to `<name>.crt` / `<name>.key`
 * (key 0600); `usage: 'client'` makes a client certificate (mTLS). `keyType` picks the key: `ec` (P-256) or `rsa` (2048 bits), which decides which TLS 1.2
 * suites (ECDSA or RSA) can serve it.
 */
export async function createTestLeafCertificate(
  authority: TestCertificateAuthority,
  name: string,
  options: { keyType?: 'ec' | 'rsa'; directory?: string; usage?: 'server' | 'client' } = {},
): Promise<TestLeafCertificate> {
  const directory = options.directory ?? authority.directory;
  const keyFile = join(directory, `${name}.key`);
  const certFile = join(directory, `${name}.crt`);
  const requestFile = join(authority.directory, `${name}.csr`);
  const extensionsFile = join(authority.directory, `${name}.ext`);
  if (options.keyType === 'rsa') await run('openssl', ['genrsa', '-out', keyFile, '2048']);
  else await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  await chmod(keyFile, 0o600);
  await run('openssl', ['req', '-new', '-key', keyFile, '-out', requestFile, '-subj', '/CN=localhost']);
  await writeFile(extensionsFile, `subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=${options.usage === 'client' ? 'clientAuth' : 'serverAuth'}\n`);
  await run('openssl', [
    'x509', '-req', '-in', requestFile, '-CA', authority.caCertFile, '-CAkey', authority.caKeyFile, '-CAcreateserial',
    '-out', certFile, '-days', '1', '-extfile', extensionsFile,
  ]);
  const { stdout } = await run('openssl', ['x509', '-in', certFile, '-noout', '-serial']);
  return { certFile, keyFile, serial: stdout.trim().replace(/^serial=/, '') };
}

export interface OpenSslClientResult {
  /** True when the handshake completed (s_client printed a negotiated cipher other than `(NONE)`). */
  connected: boolean;
  protocol: string | undefined;
  cipher: string | undefined;
  output: string;
}

/**
 * One `openssl s_client` handshake against 127.0.0.1:port, with `extra` flags (`-tls1_1`,
 * `-cipher …`). Closes at once (stdin is empty). The client is set to security level 0 so that
 * it *offers* old protocols and suites: a refusal then comes from the server, not from the
 * client's own policy.
 */
export async function openSslHandshake(port: number, extra: readonly string[]): Promise<OpenSslClientResult> {
  const hasCipher = extra.includes('-cipher');
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...(hasCipher ? [] : ['-cipher', 'ALL:@SECLEVEL=0']), ...extra];
  const output = await new Promise<string>((resolve) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('close', () => {
      clearTimeout(killer);
      resolve(text);
    });
    child.stdin.end(); // empty stdin: s_client closes right after the handshake
  });
  const cipher = /Cipher is ([^\s]+)/.exec(output)?.[1];
  const protocol = /Protocol\s*:\s*(\S+)/.exec(output)?.[1] ?? /New, (TLSv[0-9.]+)/.exec(output)?.[1];
  return { connected: cipher !== undefined && cipher !== '(NONE)', protocol, cipher, output };
}
