import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createTestCertificateAuthority, createTestLeafCertificate, type TestCertificateAuthority, type TestLeafCertificate } from '../helpers/tls-certificates.js';

/**
 * mTLS for the management scope (`server.tls.management_client_ca_file`) on a real TLS socket with
 * certificates made at test time: the management paths refuse a connection without a client
 * certificate or with one from another CA (403 before the key is read), a certificate from the
 * management CA goes on to the management key check (401 here: no management key exists), the
 * client API on the same port needs no certificate, and the CA file is reloaded like the pair.
 */

let workDirectory: string;
let served: string;
let serverAuthority: TestCertificateAuthority;
let managementAuthority: TestCertificateAuthority;
let otherAuthority: TestCertificateAuthority;
let serverLeaf: TestLeafCertificate;
let managementClient: TestLeafCertificate;
let otherClient: TestLeafCertificate;
let gateway: TestGateway;

interface Answer {
  status: number;
  body: string;
}

/** One HTTPS request on a fresh connection, with or without a client certificate. */
async function send(path: string, client?: TestLeafCertificate, headers: Record<string, string> = {}): Promise<Answer> {
  const clientCredentials = client === undefined ? {} : { cert: await readFile(client.certFile), key: await readFile(client.keyFile) };
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(
      { host: '127.0.0.1', port: gateway.port, path, agent: false, servername: 'localhost', ca: serverAuthority.caCert, headers, ...clientCredentials },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (piece: string) => (body += piece));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function tlsSettings(caFile: string): Record<string, unknown> {
  return { server: { tls: { enabled: true, cert_file: join(served, 'server.crt'), key_file: join(served, 'server.key'), management_client_ca_file: caFile } } };
}

/** Replaces the served CA file by rename, as a deployment tool would. */
async function installCa(authority: TestCertificateAuthority): Promise<void> {
  await copyFile(authority.caCertFile, join(served, 'clients-ca.crt.tmp'));
  await chmod(join(served, 'clients-ca.crt.tmp'), 0o644);
  await rename(join(served, 'clients-ca.crt.tmp'), join(served, 'clients-ca.crt'));
}

beforeAll(async () => {
  workDirectory = await mkdtemp(join(tmpdir(), 'cliproxy-mtls-'));
  served = join(workDirectory, 'served');
  await mkdir(served, { mode: 0o700 });
  for (const name of ['server-ca', 'management-ca', 'other-ca']) await mkdir(join(workDirectory, name), { mode: 0o700 });
  serverAuthority = await createTestCertificateAuthority(join(workDirectory, 'server-ca'));
  managementAuthority = await createTestCertificateAuthority(join(workDirectory, 'management-ca'));
  otherAuthority = await createTestCertificateAuthority(join(workDirectory, 'other-ca'));
  serverLeaf = await createTestLeafCertificate(serverAuthority, 'server');
  managementClient = await createTestLeafCertificate(managementAuthority, 'operator', { usage: 'client' });
  otherClient = await createTestLeafCertificate(otherAuthority, 'intruder', { usage: 'client' });
  await copyFile(serverLeaf.certFile, join(served, 'server.crt'));
  await copyFile(serverLeaf.keyFile, join(served, 'server.key'));
  await chmod(join(served, 'server.key'), 0o600);
  await installCa(managementAuthority);
  gateway = await startTestGateway({ providers: {}, extra: tlsSettings(join(served, 'clients-ca.crt')) });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await rm(workDirectory, { recursive: true, force: true });
});

describe('mTLS for the management scope', () => {
  it('without a client certificate /v0/management and /metrics are refused with 403, before the key is read', async () => {
    for (const path of ['/v0/management/config', '/metrics']) {
      const answer = await send(path, undefined, { authorization: 'Bearer not-a-management-key' });
      expect(answer.status).toBe(403);
      expect(answer.body).toContain('GW_CLIENT_CERTIFICATE_REQUIRED');
    }
  });

  it('a client certificate from another CA is refused the same way', async () => {
    const answer = await send('/v0/management/config', otherClient);
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('GW_CLIENT_CERTIFICATE_REQUIRED');
  });

  it('a certificate from the management CA goes on to the management key check', async () => {
    const answer = await send('/v0/management/config', managementClient, { authorization: 'Bearer not-a-management-key' });
    expect(answer.status).toBe(401);
    expect(answer.body).toContain('GW_UNAUTHORIZED');
  });

  it('each refusal is an authentication failure: an auth-failure audit record with the reason and the auth-failure counter', async () => {
    await send('/v0/management/whoami', undefined, { 'x-request-id': 'mtls-missing-certificate' });
    await send('/v0/management/whoami', otherClient, { 'x-request-id': 'mtls-other-authority' });
    await gateway.gateway.audit.flush();
    const records = (await readFile(gateway.gateway.audit.file ?? '', 'utf8'))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { event_type: string; request_id: string | null; ip: string | null; detail: unknown });
    const failures = records.filter((record) => record.event_type === 'auth-failure');
    expect(failures.find((record) => record.request_id === 'mtls-missing-certificate')).toMatchObject({ ip: '127.0.0.1', detail: { scope: 'management', reason: 'missing client certificate' } });
    expect(failures.find((record) => record.request_id === 'mtls-other-authority')).toMatchObject({ ip: '127.0.0.1', detail: { scope: 'management', reason: 'unverified client certificate' } });
    const exposition = gateway.gateway.metrics.gateway?.render() ?? '';
    const counted = /cliproxy_auth_failures_total\{scope="management",reason="client_certificate"\} (\d+)/.exec(exposition);
    expect(Number(counted?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('the client API on the same port needs no client certificate', async () => {
    const answer = await send('/v1/models', undefined, { authorization: `Bearer ${gateway.clientKey}` });
    expect(answer.status).toBe(200);
  });

  it('the CA file is reloaded like the certificate: a new CA admits its clients and drops the old one\'s', async () => {
    const logsBefore = gateway.logs.length;
    await installCa(otherAuthority);
    const deadline = Date.now() + 20_000;
    while (!gateway.logs.slice(logsBefore).some((line) => line.includes('TLS certificate and key reloaded')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await send('/v0/management/config', otherClient)).status).toBe(401);
    expect((await send('/v0/management/config', managementClient)).status).toBe(403);

    // A CA file others can write is refused on reload: the running CA stays.
    const refusedAt = gateway.logs.length;
    await copyFile(managementAuthority.caCertFile, join(served, 'clients-ca.crt.tmp'));
    await chmod(join(served, 'clients-ca.crt.tmp'), 0o666);
    await rename(join(served, 'clients-ca.crt.tmp'), join(served, 'clients-ca.crt'));
    const refusedDeadline = Date.now() + 20_000;
    while (!gateway.logs.slice(refusedAt).some((line) => line.includes('TLS_CLIENT_CA_INVALID')) && Date.now() < refusedDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(gateway.logs.slice(refusedAt).some((line) => line.includes('reload refused'))).toBe(true);
    expect((await send('/v0/management/config', otherClient)).status).toBe(401);
    expect((await send('/v0/management/config', managementClient)).status).toBe(403);
    await installCa(managementAuthority);
  }, 60_000);
});

describe('management_client_ca_file at start', () => {
  it('is refused when group or others can write it, when it holds a leaf instead of a CA, and without TLS', async () => {
    const loose = join(workDirectory, 'loose-ca.crt');
    await copyFile(managementAuthority.caCertFile, loose);
    await chmod(loose, 0o664);
    await expect(startTestGateway({ providers: {}, extra: tlsSettings(loose) })).rejects.toThrow(/TLS_CLIENT_CA_INVALID|lets group or others write it/);

    const leafOnly = join(workDirectory, 'leaf-only.crt');
    await copyFile(managementClient.certFile, leafOnly);
    await chmod(leafOnly, 0o644);
    await expect(startTestGateway({ providers: {}, extra: tlsSettings(leafOnly) })).rejects.toThrow(/holds no CA certificate/);

    await expect(
      startTestGateway({ providers: {}, extra: { server: { tls: { management_client_ca_file: managementAuthority.caCertFile } } } }),
    ).rejects.toThrow(/management_client_ca_file: set while server.tls.enabled is false/);
  }, 60_000);
});
