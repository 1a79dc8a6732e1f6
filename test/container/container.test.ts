import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { checkInstallationLockfile } from '../../src/doctor/checks/installation-checks.js';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { createTestCertificateAuthority, createTestLeafCertificate } from '../helpers/tls-certificates.js';
import { hardenedFlags, podmanRun, podmanStart, podmanUnavailableReason, removeContainer, runCommand, type RunningContainer } from './podman.js';

/**
 * The container posture, proven: the rootfs scripts/build-rootfs.sh assembles (the built app,
 * production node_modules, Node and its libraries, no shell) runs under podman + runc with
 * exactly the flags deploy/docker-compose.yml sets, and the derived seccomp profile. Through it
 * pass /healthz, a chat completion and a stream to a stub upstream on the host's loopback, and the
 * image's HEALTHCHECK command. Inside, the profile bites (setpriority and symlink fail with EPERM
 * under it but succeed under podman's default profile), writes outside the volumes fail with
 * EROFS, and /proc shows Seccomp 2, NoNewPrivs 1, CapEff 0.
 *
 * The server runs with TLS on: certificate and key in the read-only config mount (key 0600, owned by
 * the server's uid, as the key-file check demands), HTTPS verified against a CA made for the test,
 * and the image's HEALTHCHECK passing over TLS. Where podman cannot run, the suite is skipped with a loud message;
 * with CI=true it fails instead, so CI cannot pass without running it.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const profile = join(root, 'deploy/seccomp-profile.json');
const runId = `${process.pid}-${randomBytes(3).toString('hex')}`;
const containers: string[] = [];
const clients: RunningContainer[] = [];
let work = '';
let rootfs = '';
let unavailable: string | undefined = 'not probed';
let assembleSeconds = 0;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'cliproxy-container-'));
  rootfs = join(work, 'rootfs');
  const started = Date.now();
  // globalSetup already built dist/; the rootfs is assembled once per test run and removed after.
  const assembled = await runCommand('bash', ['-c', `SKIP_BUILD=1 exec "${join(root, 'scripts/build-rootfs.sh')}" "${rootfs}"`], 180_000);
  if (assembled.code !== 0) throw new Error(`scripts/build-rootfs.sh failed:\n${assembled.stdout}\n${assembled.stderr}`);
  assembleSeconds = (Date.now() - started) / 1000;
  unavailable = await podmanUnavailableReason(rootfs);
  if (unavailable !== undefined) {
    const banner = '!'.repeat(100);
    console.warn(`\n${banner}\n!! CONTAINER TESTS SKIPPED: ${unavailable}\n!! Install podman and runc (bash .ci/steps/container.sh) to run them.\n${banner}\n`);
    if (process.env['CI'] === 'true') throw new Error(`CI=true but podman cannot run here: ${unavailable}`);
  }
}, 240_000);

afterAll(async () => {
  for (const name of containers) await removeContainer(name);
  for (const client of clients) if (client.process.exitCode === null) client.process.kill('SIGKILL');
  if (work !== '') rmSync(work, { recursive: true, force: true });
}, 60_000);

function containerName(purpose: string): string {
  const name = `cliproxy-test-${purpose}-${runId}`;
  containers.push(name);
  return name;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function until<T>(check: () => T | undefined, milliseconds: number, what: string): Promise<T> {
  const deadline = Date.now() + milliseconds;
  while (Date.now() < deadline) {
    const value = check();
    if (value !== undefined) return value;
    await new Promise((wait) => setTimeout(wait, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A config dir (read-only mount) and the two writable volumes, owned like the image's; with `tls`, the pair in the config dir. */
function volumes(upstream: StubUpstream, clientKey: string, tls?: { cert: Buffer; key: Buffer }): { config: string; auths: string; logs: string } {
  const base = mkdtempSync(join(work, 'volumes-'));
  const config = join(base, 'config');
  const auths = join(base, 'auths');
  const logs = join(base, 'logs');
  mkdirSync(config, { mode: 0o755 });
  for (const directory of [auths, logs]) {
    mkdirSync(directory, { mode: 0o700 });
    chownSync(directory, 65534, 65534);
  }
  chmodSync(base, 0o755);
  if (tls !== undefined) {
    writeFileSync(join(config, 'tls.crt'), tls.cert, { mode: 0o644 });
    writeFileSync(join(config, 'tls.key'), tls.key, { mode: 0o600 });
    chownSync(join(config, 'tls.key'), 65534, 65534); // the server's uid, or the key-file check refuses it
  }
  writeFileSync(join(config, 'config.yaml'), [
    'server:',
    '  host: 127.0.0.1 # --network host: loopback only (the compose file binds 0.0.0.0 inside its own network namespace)',
    ...(tls === undefined ? [] : ['  tls: { enabled: true, cert_file: /config/tls.crt, key_file: /config/tls.key }']),
    'auth:',
    '  client_keys_file: /auths/client-keys.json',
    '  dir: /auths',
    '  encryption: { key_file: /auths/encryption.key }',
    '  api_keys:',
    `    - { id: container-test, key_sha256: ${createHash('sha256').update(clientKey).digest('hex')} }`,
    'audit:',
    '  file: /logs/audit.jsonl',
    'usage:',
    '  file: /auths/usage.jsonl # the usage file lives on a writable volume, never in the read-only config mount',
    'providers:',
    '  stub:',
    '    type: openai',
    `    base_url: ${upstream.baseUrl}`,
    '    allow_private_network: true # the stub upstream is on the host loopback',
    '    api_keys: ["test-upstream-key-0001"]',
    '    models: [{ name: gpt-test }]',
    '',
  ].join('\n'), { mode: 0o600 });
  // The config holds upstream keys: 0600 and owned by the server's user, or the server refuses it.
  chownSync(join(config, 'config.yaml'), 65534, 65534);
  return { config, auths, logs };
}

const volumeFlags = (paths: { config: string; auths: string; logs: string }) => [
  '-v', `${paths.config}:/config:ro`, '-v', `${paths.auths}:/auths`, '-v', `${paths.logs}:/logs`,
];

/** The HEALTHCHECK command of deploy/Dockerfile, in exec form. */
function dockerfileHealthcheck(): string[] {
  const text = readFileSync(join(root, 'deploy/Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const match = /^HEALTHCHECK .*?CMD (\[.*\])\s*$/m.exec(text);
  if (match?.[1] === undefined) throw new Error('deploy/Dockerfile has no exec-form HEALTHCHECK');
  return JSON.parse(match[1]) as string[];
}

/**
 * deploy/kubernetes/deployment.yaml, as written: its Secret volumes are built the way the kubelet
 * builds them (root-owned files with the manifest's defaultMode and the fsGroup, behind `..data`
 * symlinks), mounted read-only like every Secret volume, the writable volumes owned by runAsUser, the
 * container's args, runAsUser/runAsGroup/fsGroup and posture from the manifest. serve starts and
 * answers over TLS, and `doctor` in the same container passes the container and permission checks.
 * The same Secret trees mounted writable are refused: the rule accepts the read-only mount only.
 */
interface ManifestPod {
  securityContext: { runAsUser: number; runAsGroup: number; fsGroup: number };
  containers: { args: string[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  volumes: { name: string; secret?: { secretName: string; defaultMode: number } }[];
}

function manifestPod(): ManifestPod {
  // The manifest writes modes in decimal (`288  # 0440`), so YAML 1.1 (Kubernetes) and 1.2 read the same.
  const documents = parseAllDocuments(readFileSync(join(root, 'deploy/kubernetes/deployment.yaml'), 'utf8'));
  const deployment = documents[0]?.toJS() as { spec: { template: { spec: ManifestPod } } };
  return deployment.spec.template.spec;
}

/** A Secret volume as the kubelet's atomic writer lays it out. */
function secretVolume(base: string, name: string, files: Record<string, Buffer | string>, mode: number, group: number): string {
  const directory = join(base, name);
  const timestamped = join(directory, '..2026_12_03_15_00_00.000000001');
  mkdirSync(timestamped, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(join(timestamped, file), content);
    chownSync(join(timestamped, file), 0, group);
    chmodSync(join(timestamped, file), mode);
    symlinkSync(join('..data', file), join(directory, file));
  }
  symlinkSync('..2026_12_03_15_00_00.000000001', join(directory, '..data'));
  chmodSync(directory, 0o755);
  chmodSync(timestamped, 0o755);
  return directory;
}

describe('the container (podman + runc, read-only, non-root, seccomp)', () => {
  it('serves /healthz, a chat completion and a stream over TLS through the proxy to a stub upstream; the HEALTHCHECK passes over TLS', async ({ skip }) => {
    if (unavailable !== undefined) skip(unavailable);
    const upstream = await startOpenAIStub();
    const certificates = mkdtempSync(join(work, 'certificates-'));
    const authority = await createTestCertificateAuthority(certificates);
    const leaf = await createTestLeafCertificate(authority, 'server');
    const trusting = new Agent({ connect: { ca: authority.caCert, servername: 'localhost' } });
    const fetch = (url: string, init: Parameters<typeof undiciFetch>[1] = {}) => undiciFetch(url, { ...init, dispatcher: trusting });
    try {
      const clientKey = `cpa_container_${randomBytes(24).toString('base64url')}`;
      const paths = volumes(upstream, clientKey, { cert: readFileSync(leaf.certFile), key: readFileSync(leaf.keyFile) });
      const port = await freePort();
      const name = containerName('server');
      const server: RunningContainer = podmanStart(name, [...hardenedFlags(profile), ...volumeFlags(paths), '-e', `CLIPROXY_SERVER_PORT=${port}`], rootfs,
        ['/nodejs/bin/node', '/app/dist/cli/main.js', 'serve', '--config', '/config/config.yaml']);
      clients.push(server);
      const url = await until(() => /"url":"(https?:\/\/[^"]+)"/.exec(server.output())?.[1], 30_000, `the listening line; output so far:\n${server.output()}`);
      expect(url).toBe(`https://127.0.0.1:${port}`);

      const sockets = await runCommand('ss', ['-Hltn', `sport = :${port}`], 10_000);
      if (sockets.code === 0) expect(sockets.stdout.trim().split('\n').map((line) => line.split(/\s+/)[3])).toEqual([`127.0.0.1:${port}`]);

      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect((await fetch(`${url}/v1/models`)).status).toBe(401);

      const headers = { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' };
      const completion = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }) });
      expect(completion.status).toBe(200);
      const body = (await completion.json()) as { choices: { message: { content: string } }[] };
      expect(body.choices[0]?.message.content).toBe('Hello from the OpenAI stub.');
      expect(upstream.requests.at(-1)?.apiKey).toBe('test-upstream-key-0001');

      const stream = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] }) });
      expect(stream.status).toBe(200);
      const streamed = await stream.text();
      expect(streamed).toContain('data: ');
      expect(streamed.trimEnd().endsWith('data: [DONE]')).toBe(true);

      // The image's HEALTHCHECK, run the way the engine runs it: exec'd in the container, same posture.
      const healthcheck = await runCommand('podman', ['--runtime', 'runc', 'exec', name, ...dockerfileHealthcheck()], 30_000);
      expect(healthcheck, healthcheck.stderr).toMatchObject({ code: 0 });
      // The server process itself (PID 1) runs confined.
      const status = await runCommand('podman', ['--runtime', 'runc', 'exec', name, '/nodejs/bin/node', '-e', 'process.stdout.write(require("fs").readFileSync("/proc/1/status","utf8"))'], 30_000);
      expect(status.stdout).toMatch(/^Seccomp:\s+2$/m);
      expect(status.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(status.stdout).toMatch(/^CapEff:\s+0000000000000000$/m);
      expect(status.stdout).toMatch(/^Uid:\s+65534\s+65534\s+65534\s+65534$/m);

      const stopped = await runCommand('podman', ['stop', '--time', '15', name], 30_000);
      expect(stopped.code).toBe(0);
      expect(await server.exit).toBe(0); // SIGTERM → graceful shutdown → exit 0, under the profile
      expect(server.output()).toContain('shutting down');
      expect(server.output()).not.toContain(clientKey);
    } finally {
      await trusting.close();
      await upstream.close();
    }
  }, 120_000);

  it('deploy/kubernetes/deployment.yaml starts as written: Secret volumes read-only, root-owned, 0440 for the fsGroup; doctor in the pod passes; the writable twin is refused', async ({ skip }) => {
    if (unavailable !== undefined) skip(unavailable);
    const pod = manifestPod();
    const { runAsUser, runAsGroup, fsGroup } = pod.securityContext;
    const container = pod.containers[0]!;
    const upstream = await startOpenAIStub();
    const certificates = mkdtempSync(join(work, 'certificates-'));
    const authority = await createTestCertificateAuthority(certificates);
    const leaf = await createTestLeafCertificate(authority, 'server');
    const trusting = new Agent({ connect: { ca: authority.caCert, servername: 'localhost' } });
    try {
      const clientKey = `cpa_container_${randomBytes(24).toString('base64url')}`;
      const configYaml = [
        'server: { host: 127.0.0.1, tls: { enabled: true, cert_file: /tls/tls.crt, key_file: /tls/tls.key } }',
        'auth:',
        '  dir: /auths/credentials',
        '  client_keys_file: /auths/keys/client-keys.json',
        '  encryption: { key_file: /auths/keys/encryption.key }',
        `  api_keys: [{ id: k8s-test, key_sha256: ${createHash('sha256').update(clientKey).digest('hex')} }]`,
        'audit: { file: /logs/audit/audit.jsonl }',
        'usage: { file: /auths/keys/usage.jsonl } # on a writable volume, in a directory the proxy creates 0700',
        'alerts:',
        '  - { name: auth failures, condition: "auth_failures > 100", duration: 5m, action: block_ip }',
        '  - { name: rate limit violations, condition: "rate_limit_violations > 50", duration: 1m, action: block_ip }',
        'providers:',
        `  stub: { type: openai, base_url: "${upstream.baseUrl}", allow_private_network: true, api_keys: ["test-upstream-key-0001"], models: [{ name: gpt-test }] }`,
        '',
      ].join('\n');
      const secretContents: Record<string, Record<string, Buffer | string>> = {
        'cliproxyapi-config': { 'config.yaml': configYaml },
        'cliproxyapi-tls': { 'tls.crt': readFileSync(leaf.certFile), 'tls.key': readFileSync(leaf.keyFile) },
      };
      /** The pod's volumes as the kubelet provides them; `secretsReadOnly: false` is the writable twin. */
      const podVolumes = (secretsReadOnly: boolean): string[] => {
        const base = mkdtempSync(join(work, 'pod-'));
        chmodSync(base, 0o755);
        const flags: string[] = [];
        for (const mount of container.volumeMounts) {
          const volume = pod.volumes.find((candidate) => candidate.name === mount.name);
          if (mount.mountPath === '/tmp') continue; // the memory-backed emptyDir: hardenedFlags' tmpfs
          if (volume?.secret !== undefined) {
            expect(mount.readOnly).toBe(true);
            const directory = secretVolume(base, mount.name, secretContents[volume.secret.secretName] ?? {}, volume.secret.defaultMode, fsGroup);
            flags.push('-v', `${directory}:${mount.mountPath}${secretsReadOnly ? ':ro' : ''}`);
          } else {
            // A fresh PersistentVolumeClaim or emptyDir under fsGroup: root-owned, the group's, setgid, group-writable.
            const directory = join(base, mount.name);
            mkdirSync(directory);
            chownSync(directory, 0, fsGroup);
            chmodSync(directory, 0o2775);
            flags.push('-v', `${directory}:${mount.mountPath}`);
          }
        }
        return flags;
      };
      const podFlags = [...hardenedFlags(profile), '--user', `${runAsUser}:${runAsGroup}`, '--group-add', String(fsGroup)];
      const command = ['/nodejs/bin/node', '/app/dist/cli/main.js', ...container.args];
      expect(command.slice(2)).toEqual(['serve', '--config', '/config/config.yaml']);

      const port = await freePort();
      const name = containerName('k8s');
      const serverFlags = [...podFlags, ...podVolumes(true), '-e', `CLIPROXY_SERVER_PORT=${port}`];
      const server = podmanStart(name, serverFlags, rootfs, command);
      clients.push(server);
      const url = await until(() => /"url":"(https?:\/\/[^"]+)"/.exec(server.output())?.[1], 30_000, `the listening line; output so far:\n${server.output()}`);
      const health = await undiciFetch(`${url}/healthz`, { dispatcher: trusting });
      expect(health.status).toBe(200);

      const doctorRun = await runCommand('podman', ['--runtime', 'runc', 'exec', name, '/nodejs/bin/node', '/app/dist/cli/main.js', 'doctor', '--config', '/config/config.yaml', '--json'], 60_000);
      const report = JSON.parse(doctorRun.stdout) as { checks: { id: string; status: string; message: string }[] };
      const statusOf = (id: string) => report.checks.find((check) => check.id === id)?.status;
      for (const id of ['container-user', 'container-read-only-root', 'container-capabilities', 'container-seccomp', 'container-no-new-privileges', 'permissions', 'tls', 'encryption', 'audit', 'installation-lockfile']) {
        expect(`${id}: ${statusOf(id) ?? 'absent'}`).toBe(`${id}: pass`);
      }
      expect(report.checks.filter((check) => check.status === 'fail')).toEqual([]);
      expect(doctorRun.code).toBe(0);
      await runCommand('podman', ['stop', '--time', '15', name], 30_000);

      // The same Secret trees on writable mounts: refused before anything listens.
      const twin = await podmanRun(containerName('k8s-writable'), [...podFlags, ...podVolumes(false)], rootfs, command);
      expect(twin.code).not.toBe(0);
      expect(`${twin.stdout}${twin.stderr}`).toContain('CREDENTIAL_PERMISSIONS_UNSAFE');
      expect(`${twin.stdout}${twin.stderr}`).toContain('/config/config.yaml: is a symlink');
    } finally {
      await trusting.close();
      await upstream.close();
    }
  }, 180_000);

  it('the profile bites, the root filesystem is read-only, and /proc shows the confinement', async ({ skip }) => {
    if (unavailable !== undefined) skip(unavailable);
    const probe = [
      'const fs = require("fs"), os = require("os");',
      'const attempt = (fn) => { try { fn(); return "ok"; } catch (error) { return error.info?.code ?? error.code; } };',
      'const status = fs.readFileSync("/proc/self/status", "utf8");',
      'const field = (name) => new RegExp(`^${name}:\\\\s+(.*)$`, "m").exec(status)[1];',
      'console.log(JSON.stringify({',
      '  setpriority: attempt(() => os.setPriority(0, 19)),',
      '  symlink: attempt(() => fs.symlinkSync("/nowhere", "/tmp/link")),',
      '  writeApp: attempt(() => fs.writeFileSync("/app/dist/injected.js", "x")),',
      '  writeRoot: attempt(() => fs.writeFileSync("/injected", "x")),',
      '  writeEtc: attempt(() => fs.writeFileSync("/etc/passwd", "x")),',
      '  writeTmp: attempt(() => fs.writeFileSync("/tmp/scratch", "x")),',
      '  writeLogs: attempt(() => fs.writeFileSync("/logs/scratch", "x")),',
      '  writeConfig: attempt(() => fs.writeFileSync("/config/config.yaml", "x")),',
      '  shell: fs.existsSync("/bin/sh") || fs.existsSync("/usr/bin/sh"),',
      '  tmpMount: fs.readFileSync("/proc/mounts", "utf8").split("\\n").find((line) => line.split(" ")[1] === "/tmp"),',
      '  seccomp: field("Seccomp"), noNewPrivs: field("NoNewPrivs"), capEff: field("CapEff"), uid: field("Uid"),',
      '}));',
    ].join('\n');
    const upstream = await startOpenAIStub();
    try {
      const paths = volumes(upstream, 'cpa_unused_key_for_the_probe_0000000000000000');
      const underProfile = await podmanRun(containerName('probe'), [...hardenedFlags(profile), ...volumeFlags(paths)], rootfs, ['/nodejs/bin/node', '-e', probe]);
      expect(underProfile, underProfile.stderr).toMatchObject({ code: 0 });
      const confined = JSON.parse(underProfile.stdout) as Record<string, unknown>;
      expect(confined).toMatchObject({
        setpriority: 'EPERM', // not in the profile: the filter answers EPERM (defaultErrnoRet 1)
        symlink: 'EPERM',
        writeApp: 'EROFS', writeRoot: 'EROFS', writeEtc: 'EROFS',
        writeConfig: 'EROFS', // mounted :ro
        writeTmp: 'ok', writeLogs: 'ok', // the tmpfs and a volume: the only writable places
        shell: false,
        seccomp: '2', noNewPrivs: '1', capEff: '0000000000000000', uid: '65534\t65534\t65534\t65534',
      });
      expect(confined['tmpMount']).toMatch(/^tmpfs \/tmp tmpfs \S*\bnoexec\b/);
      expect(confined['tmpMount']).toMatch(/\bnosuid\b/);

      // Control: the same probe under podman's default profile. The two calls succeed there, so
      // their EPERM above is our profile at work, not the missing capabilities or the user.
      const defaultFlags = hardenedFlags('podman-default');
      expect(defaultFlags.join(' ')).not.toContain('seccomp');
      const underDefault = await podmanRun(containerName('control'), [...defaultFlags, ...volumeFlags(paths)], rootfs, ['/nodejs/bin/node', '-e', probe]);
      expect(underDefault, underDefault.stderr).toMatchObject({ code: 0 });
      expect(JSON.parse(underDefault.stdout)).toMatchObject({ setpriority: 'ok', symlink: 'ok', seccomp: '2', writeApp: 'EROFS' });
    } finally {
      await upstream.close();
    }
  }, 120_000);

  it('the rootfs is minimal: no shell, no package manager, no dev dependencies, root-owned app', async () => {
    // Runs even where podman cannot: it only inspects the assembled tree.
    for (const absent of ['bin/sh', 'usr/bin/sh', 'bin/bash', 'usr/bin/npm', 'app/node_modules/vitest', 'app/node_modules/typescript', 'app/src']) {
      expect(existsSync(join(rootfs, absent)), absent).toBe(false);
    }
    for (const present of ['nodejs/bin/node', 'app/dist/cli/main.js', 'app/node_modules/fastify', 'app/package-lock.json', 'etc/ssl/certs/ca-certificates.crt', 'etc/passwd']) {
      expect(existsSync(join(rootfs, present)), present).toBe(true);
    }
    expect(statSync(join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
    if (process.getuid?.() === 0) {
      expect(statSync(join(rootfs, 'app/dist')).uid).toBe(0);
      expect(statSync(join(rootfs, 'auths')).uid).toBe(65534);
    }
    expect(statSync(join(rootfs, 'app/dist')).mode & 0o022).toBe(0); // not group/world-writable
    // The lockfile beside the package, as read-only as the rest: doctor's installation check passes on the tree.
    expect(statSync(join(rootfs, 'app/package-lock.json')).mode & 0o022).toBe(0);
    if (process.getuid?.() === 0) expect(statSync(join(rootfs, 'app/package-lock.json')).uid).toBe(0);
    expect(checkInstallationLockfile(join(rootfs, 'app'))).toMatchObject({ status: 'pass' });
    const size = await runCommand('du', ['-sm', rootfs], 30_000);
    const megabytes = Number(size.stdout.split('\t')[0]);
    expect(megabytes).toBeLessThan(250);
    console.info(`container rootfs: ${megabytes} MiB, assembled in ${assembleSeconds.toFixed(1)} s`);
  });
});
