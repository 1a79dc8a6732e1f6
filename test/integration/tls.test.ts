import { chmod, chown, copyFile, mkdtemp, rename, rm } from 'node:fs/promises';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  createTestCertificateAuthority,
  createTestLeafCertificate,
  openSslHandshake,
  type TestCertificateAuthority,
  type TestLeafCertificate,
} from '../helpers/tls-certificates.js';

/**
 * TLS termination on a real loopback socket with certificates made at test time: protocol and
 * suite policy seen by `openssl s_client` (which is told to offer old protocols, so a refusal is
 * the server's), the key-file check at start, and the hot reload of the certificate (open
 * connections kept, new ones get the new certificate, a bad pair keeps the old one).
 */

let workDirectory: string;
let authority: TestCertificateAuthority;
let first: TestLeafCertificate;
let second: TestLeafCertificate;
let tlsDirectory: string;
let gateway: TestGateway;

/** The served files: `server.crt` / `server.key` in their own directory, replaced by rename like cert-manager does. */
async function install(leaf: { certFile: string; keyFile: string }): Promise<void> {
  await copyFile(leaf.certFile, join(tlsDirectory, 'server.crt.tmp'));
  await copyFile(leaf.keyFile, join(tlsDirectory, 'server.key.tmp'));
  await chmod(join(tlsDirectory, 'server.key.tmp'), 0o600);
  await rename(join(tlsDirectory, 'server.key.tmp'), join(tlsDirectory, 'server.key'));
  await rename(join(tlsDirectory, 'server.crt.tmp'), join(tlsDirectory, 'server.crt'));
}

function tlsSettings(directory: string): Record<string, unknown> {
  return { server: { tls: { enabled: true, cert_file: join(directory, 'server.crt'), key_file: join(directory, 'server.key') } } };
}

/** The serial of the certificate a fresh connection is served. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: authority.caCert }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial.toUpperCase());
    });
    socket.on('error', reject);
  });
}

function getOver(agent: HttpsAgent, port: number, path: string): Promise<{ status: number; reusedSocket: boolean; socketId: unknown }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: '127.0.0.1', port, path, agent, servername: 'localhost', ca: authority.caCert }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, reusedSocket: request.reusedSocket, socketId: request.socket }));
    });
    request.on('error', reject);
    request.end();
  });
}

async function waitForLog(fragment: string, after: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (gateway.logs.slice(after).some((line) => line.includes(fragment))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no log line with '${fragment}'`);
}

beforeAll(async () => {
  workDirectory = await mkdtemp(join(tmpdir(), 'cliproxy-tls-'));
  tlsDirectory = join(workDirectory, 'served');
  await (await import('node:fs/promises')).mkdir(tlsDirectory, { mode: 0o700 });
  authority = await createTestCertificateAuthority(workDirectory);
  first = await createTestLeafCertificate(authority, 'first');
  second = await createTestLeafCertificate(authority, 'second', { keyType: 'rsa' });
  await install(first);
  gateway = await startTestGateway({ providers: {}, extra: tlsSettings(tlsDirectory) });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await rm(workDirectory, { recursive: true, force: true });
});

describe('TLS protocol and suite policy', () => {
  it('serves HTTPS on the configured port', async () => {
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const agent = new HttpsAgent({ keepAlive: false });
    expect((await getOver(agent, gateway.port, '/healthz')).status).toBe(200);
  });

  it('refuses TLS 1.1 and TLS 1.0 even when the client offers them', async () => {
    for (const flag of ['-tls1_1', '-tls1']) {
      const result = await openSslHandshake(gateway.port, [flag]);
      expect(result.connected, result.output).toBe(false);
    }
  });

  it('refuses CBC, RC4-era and non-ECDHE suites over TLS 1.2', async () => {
    for (const suite of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'AES128-GCM-SHA256', 'DHE-RSA-AES128-GCM-SHA256']) {
      const result = await openSslHandshake(gateway.port, ['-tls1_2', '-cipher', `${suite}:@SECLEVEL=0`]);
      expect(result.connected, `${suite}: ${result.output}`).toBe(false);
    }
  });

  it('accepts TLS 1.2 with ECDHE-GCM and TLS 1.3', async () => {
    const tls12 = await openSslHandshake(gateway.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
    expect(tls12.connected, tls12.output).toBe(true);
    expect(tls12.cipher).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    const tls13 = await openSslHandshake(gateway.port, ['-tls1_3']);
    expect(tls13.connected, tls13.output).toBe(true);
    expect(tls13.output).toContain('TLSv1.3');
  });
});

describe('certificate hot reload', () => {
  it('serves the new pair to new connections and keeps an open keep-alive connection', async () => {
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await getOver(agent, gateway.port, '/healthz');
      expect(before.status).toBe(200);
      expect(await servedSerial(gateway.port)).toBe(first.serial);
      const mark = gateway.logs.length;
      await install(second);
      await waitForLog('TLS certificate and key reloaded', mark);
      const after = await getOver(agent, gateway.port, '/healthz');
      expect(after.status).toBe(200);
      expect(after.reusedSocket).toBe(true);
      expect(after.socketId).toBe(before.socketId);
      expect(await servedSerial(gateway.port)).toBe(second.serial);
    } finally {
      agent.destroy();
    }
  }, 30_000);

  it('keeps the running pair when the new key does not match the certificate, and logs no key', async () => {
    const mark = gateway.logs.length;
    // The first leaf's certificate with the second leaf's key: not a pair.
    await install({ certFile: first.certFile, keyFile: second.keyFile });
    await waitForLog('TLS certificate reload refused', mark);
    expect(await servedSerial(gateway.port)).toBe(second.serial);
    const logged = gateway.logs.slice(mark).join('\n');
    expect(logged).not.toContain('PRIVATE KEY');
    expect(logged).toContain('TLS_CERTIFICATE_INVALID');
    await install(second); // back to a good pair for what follows
  }, 30_000);
});

describe('the key file is checked at start', () => {
  async function startWith(prepare: (keyFile: string) => Promise<void>): Promise<unknown> {
    const directory = await mkdtemp(join(workDirectory, 'start-'));
    await copyFile(first.certFile, join(directory, 'server.crt'));
    await copyFile(first.keyFile, join(directory, 'server.key'));
    await chmod(join(directory, 'server.key'), 0o600);
    await prepare(join(directory, 'server.key'));
    try {
      const started = await startTestGateway({ providers: {}, extra: tlsSettings(directory) });
      await started.stop();
      return undefined;
    } catch (error) {
      return error;
    }
  }

  it('refuses a key file readable by group or others (0644)', async () => {
    const error = await startWith((keyFile) => chmod(keyFile, 0o644));
    expect(error).toMatchObject({ code: 'TLS_KEY_FILE_UNSAFE' });
    expect(String((error as Error).message)).toMatch(/mode 0644.*chmod 600/s);
  });

  it('refuses a key file owned by another user', async (context) => {
    if (process.getuid?.() !== 0) {
      console.warn('SKIPPED: giving a file to another uid needs root');
      context.skip();
    }
    const error = await startWith((keyFile) => chown(keyFile, 65_534, 65_534));
    expect(error).toMatchObject({ code: 'TLS_KEY_FILE_UNSAFE' });
    expect(String((error as Error).message)).toContain('owned by uid 65534');
  });

  it('refuses a key that does not match the certificate', async () => {
    const error = await startWith((keyFile) => copyFile(second.keyFile, keyFile));
    expect(error).toMatchObject({ code: 'TLS_CERTIFICATE_INVALID' });
  });
});
