import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeContainer, parseProcStatus, type ContainerFacts } from '../../src/doctor/checks/container-checks.js';
import { checkInstallationLockfile, checkInstallationSbom, packageRoot } from '../../src/doctor/checks/installation-checks.js';
import type { DoctorReport } from '../../src/doctor/report-schema.js';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { callManagement, generateManagementKeys } from '../helpers/management.js';
import { doctor } from './doctor-run.js';
import { createHardenedTree, type HardenedTree } from './hardened-tree.js';

/**
 * The checks about where and how the proxy runs: inside its container (/proc/self/status and the
 * mount table; here over facts, and for real inside the hardened container in
 * test/container/container.test.ts), the installed package (its own lockfile and SBOM), and the
 * running proxy through its management API (a real gateway on loopback).
 */
/** A loopback port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}

/**
 * A TCP forwarder to `port` on one of the ports fetch refuses as "bad" (the Fetch standard's list),
 * whichever of them is free here; undefined when none can be bound.
 */
async function forwarderOnBadPort(port: number): Promise<{ port: number; close: () => Promise<void> } | undefined> {
  for (const badPort of [6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080, 6000, 6566]) {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const target = connect(port, '127.0.0.1');
      for (const socket of [client, target]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(target).pipe(client);
    });
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(badPort, '127.0.0.1', () => resolve(true));
    });
    if (bound) {
      return {
        port: badPort,
        close: async () => {
          for (const socket of sockets) socket.destroy();
          await new Promise((closed) => server.close(closed));
        },
      };
    }
  }
  return undefined;
}

const hardenedStatus = parseProcStatus('Name:\tnode\nUid:\t65534\t65534\t65534\t65534\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n');

function withField(name: string, value: string): ContainerFacts {
  return { status: new Map([...hardenedStatus, [name, value]]), rootReadOnly: true };
}

const failing = (facts: ContainerFacts) => judgeContainer(facts, 'test').filter((result) => result.status !== 'pass').map((result) => `${result.id}: ${result.fix ?? ''}`);

describe('container checks', () => {
  it('the hardened posture passes all five', () => {
    expect(judgeContainer({ status: hardenedStatus, rootReadOnly: true }, 'test').map((result) => result.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
  });

  it.each([
    [withField('Uid', '0\t0\t0\t0'), 'container-user', '--user 65534:65534'],
    [{ status: hardenedStatus, rootReadOnly: false }, 'container-read-only-root', '--read-only'],
    [withField('CapEff', '00000000a80425fb'), 'container-capabilities', '--cap-drop ALL'],
    [withField('Seccomp', '0'), 'container-seccomp', 'seccomp-profile.json'],
    [withField('NoNewPrivs', '0'), 'container-no-new-privileges', 'no-new-privileges'],
  ] as const)('each broken field fails exactly its check with the fix (%#)', (facts, id, fix) => {
    const found = failing(facts);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`${id}: `);
    expect(found[0]).toContain(fix);
  });

  it('--container no skips them, --container yes judges this very process', async () => {
    const tree = await createHardenedTree();
    try {
      const skipped = await doctor(['--config', tree.configPath]);
      expect(skipped.report.checks.filter((check) => check.id.startsWith('container-')).map((check) => check.status)).toEqual(['skip', 'skip', 'skip', 'skip', 'skip']);
      const judged = await doctor(['--config', tree.configPath, '--container', 'yes']);
      const seccomp = judged.report.checks.find((check) => check.id === 'container-seccomp');
      // The test process is not under a seccomp filter, whatever machine runs it: vitest does not set one.
      expect(seccomp?.status).toBe('fail');
      expect(judged.code).toBe(1);
    } finally {
      tree.remove();
    }
  });
});

describe('installation checks', () => {
  let fake: string;
  beforeAll(() => {
    fake = mkdtempSync(join(tmpdir(), 'cliproxy-package-'));
    writeFileSync(join(fake, 'package.json'), JSON.stringify({ name: 'cliproxyapi', version: '9.9.9', dependencies: { yaml: '2.0.0' } }));
    writeFileSync(join(fake, 'package-lock.json'), JSON.stringify({ name: 'cliproxyapi', version: '9.9.9', packages: { '': { dependencies: { yaml: '2.0.0' } }, 'node_modules/yaml': { version: '2.0.0' } } }));
    mkdirSync(join(fake, 'node_modules', 'yaml'), { recursive: true });
    writeFileSync(join(fake, 'node_modules', 'yaml', 'package.json'), JSON.stringify({ name: 'yaml', version: '2.0.1' }));
  });
  afterAll(() => rmSync(fake, { recursive: true, force: true }));

  it('the running package is found beside this code, not in the working directory, and its lockfile matches', () => {
    expect(packageRoot()).toBe(new URL('../..', import.meta.url).pathname.replace(/\/$/, ''));
    expect(checkInstallationLockfile().status).toBe('pass');
  });

  it('a dependency installed at another version than the lockfile pinned warns, naming it', () => {
    const result = checkInstallationLockfile(fake);
    expect(result.status).toBe('warn');
    expect(result.details).toEqual(['yaml: installed 2.0.1, lockfile 2.0.0']);
    expect(checkInstallationLockfile(join(fake, 'node_modules')).status).toBe('warn');
  });

  it('an SBOM beside the package passes; none warns with where a release keeps it', () => {
    expect(checkInstallationSbom(fake)).toMatchObject({ status: 'warn', fix: expect.stringContaining('cliproxyapi-X.Y.Z.cdx.json') });
    writeFileSync(join(fake, 'cliproxyapi-9.9.9.cdx.json'), '{}');
    expect(checkInstallationSbom(fake)).toMatchObject({ status: 'pass', message: 'SBOM present: cliproxyapi-9.9.9.cdx.json' });
  });
});

describe('post-deployment checks against the running proxy (--url)', () => {
  const management = generateManagementKeys();
  let upstream: StubUpstream;
  let gateway: TestGateway;
  let tree: HardenedTree;
  beforeAll(async () => {
    upstream = await startOpenAIStub();
    gateway = await startTestGateway({ providers: { stub: { type: 'openai', base_url: upstream.baseUrl, api_keys: ['test-upstream-key-doctor'], models: [{ name: 'gpt-test' }] } }, extra: { management: management.config() } });
    tree = await createHardenedTree();
  });
  afterAll(async () => {
    await gateway.stop();
    await upstream.close();
    tree.remove();
  });

  const proxyChecks = (report: DoctorReport) => report.checks.filter((check) => check.id.startsWith('proxy-')).map((check) => `${check.id}:${check.status}`);

  it('reads credentials, IP blocks and the audit chain; an active block warns with its end', async () => {
    const clean = await doctor(['--config', tree.configPath, '--url', gateway.url], '/', { CLIPROXY_MANAGEMENT_KEY: management.keys.auditor });
    expect(proxyChecks(clean.report)).toEqual(['proxy-credentials:pass', 'proxy-ip-blocks:pass', 'proxy-audit-chain:pass']);
    expect(clean.report.checks.find((check) => check.id === 'proxy-audit-chain')?.message).toMatch(/verified its chain at \d{4}-/);
    expect(clean.stdout).not.toContain(management.keys.auditor);

    const blocked = await callManagement(`${gateway.url}/v0/management`, 'POST', '/ip-blocks', { key: management.keys.operator, body: { ip: '198.51.100.7', ttl_seconds: 600 } });
    expect(blocked.status, blocked.text).toBe(201);
    const after = await doctor(['--config', tree.configPath, '--url', gateway.url], '/', { CLIPROXY_MANAGEMENT_KEY: management.keys.auditor });
    const blocks = after.report.checks.find((check) => check.id === 'proxy-ip-blocks');
    expect(blocks?.status).toBe('warn');
    expect(blocks?.details?.[0]).toMatch(/^198\.51\.100\.7 until \d{4}-/);
  });

  it('reaches a proxy on a port fetch refuses as "bad" (6665-6669, 6000, 10080, …)', async ({ skip }) => {
    const forwarder = await forwarderOnBadPort(new URL(gateway.url).port === '' ? 80 : Number(new URL(gateway.url).port));
    if (forwarder === undefined) return skip('none of the bad ports is free on this machine');
    try {
      const direct = await doctor(['--config', tree.configPath, '--url', gateway.url], '/', { CLIPROXY_MANAGEMENT_KEY: management.keys.auditor });
      const viaBadPort = await doctor(['--config', tree.configPath, '--url', `http://127.0.0.1:${forwarder.port}`], '/', { CLIPROXY_MANAGEMENT_KEY: management.keys.auditor });
      // The same answers as on the proxy's own port (fetch skipped all three: "unreachable (bad port)").
      expect(proxyChecks(viaBadPort.report)).toEqual(proxyChecks(direct.report));
      expect(proxyChecks(viaBadPort.report).filter((check) => check.endsWith(':skip'))).toEqual([]);
    } finally {
      await forwarder.close();
    }
  });

  it('a wrong key fails, a missing key or an unreachable proxy skips (the pre-deployment checks still stand)', async () => {
    const wrong = await doctor(['--config', tree.configPath, '--url', gateway.url], '/', { CLIPROXY_MANAGEMENT_KEY: `test-wrong-${'0'.repeat(32)}` });
    expect(proxyChecks(wrong.report)).toEqual(['proxy-credentials:fail', 'proxy-ip-blocks:fail', 'proxy-audit-chain:fail']);
    expect(wrong.report.checks.find((check) => check.id === 'proxy-credentials')?.fix).toContain('CLIPROXY_MANAGEMENT_KEY');
    const missing = await doctor(['--config', tree.configPath, '--url', gateway.url]);
    expect(proxyChecks(missing.report)).toEqual(['proxy-credentials:skip', 'proxy-ip-blocks:skip', 'proxy-audit-chain:skip']);
    const unreachable = await doctor(['--config', tree.configPath, '--url', `http://127.0.0.1:${await closedPort()}`], '/', { CLIPROXY_MANAGEMENT_KEY: management.keys.auditor });
    expect(proxyChecks(unreachable.report)).toEqual(['proxy-credentials:skip', 'proxy-ip-blocks:skip', 'proxy-audit-chain:skip']);
    expect(unreachable.report.checks.find((check) => check.id === 'proxy-credentials')?.message).toContain('unreachable (ECONNREFUSED)');
    expect(unreachable.code).toBe(0);
  });
});
