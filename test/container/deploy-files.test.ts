import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

/**
 * The deployment files say what the container test proves: these checks run everywhere (no podman
 * needed) so a posture line removed from the compose file, an unpinned base image or a hand-edited
 * profile fails `npm test` on any machine.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: { names: string[]; action: string }[];
}

describe('deploy/seccomp-profile.json', () => {
  const profile = JSON.parse(read('deploy/seccomp-profile.json')) as SeccompProfile;
  const names = profile.syscalls.flatMap((rule) => rule.names);

  it('is an allowlist that runc accepts: default ERRNO (EPERM), both architectures, ALLOW rules only', () => {
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO'); // SCMP_ACT_DENY is not an action: runc refuses it
    expect(profile.defaultErrnoRet).toBe(1);
    expect(profile.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64']);
    expect(profile.syscalls.every((rule) => rule.action === 'SCMP_ACT_ALLOW')).toBe(true);
    expect(names).toEqual([...new Set(names)].sort()); // generated, sorted, no duplicates
  });

  it('keeps what Node and runc init cannot live without', () => {
    // exit/exit_group never return, so `strace -c` misses them; fstatfs and getdents64 are runc
    // init's after the filter is installed (with no-new-privileges); clone3 is Node's threads.
    for (const name of ['exit', 'exit_group', 'rt_sigreturn', 'execve', 'fstatfs', 'getdents64', 'clone3', 'futex', 'epoll_pwait', 'accept4']) {
      expect(names, name).toContain(name);
    }
  });

  it('carries the aarch64 name for every x86_64-only call it allows', () => {
    const equivalents: Record<string, string> = { open: 'openat', stat: 'newfstatat', lstat: 'newfstatat', access: 'faccessat', readlink: 'readlinkat', poll: 'ppoll', epoll_wait: 'epoll_pwait', pipe: 'pipe2', dup2: 'dup3', mkdir: 'mkdirat', rename: 'renameat', chmod: 'fchmodat', unlink: 'unlinkat', epoll_create: 'epoll_create1', eventfd: 'eventfd2' };
    for (const [x86, arm] of Object.entries(equivalents)) if (names.includes(x86)) expect(names, `${x86} → ${arm}`).toContain(arm);
  });

  it('allows nothing a proxy has no business calling', () => {
    for (const name of ['ptrace', 'mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'chroot', 'bpf', 'perf_event_open', 'keyctl', 'init_module', 'finit_module', 'kexec_load', 'reboot', 'setuid', 'setgid', 'setresuid', 'capset', 'io_uring_setup', 'userfaultfd', 'symlink', 'symlinkat', 'setpriority']) {
      expect(names, name).not.toContain(name);
    }
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = read('deploy/Dockerfile');
  const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('is also ./Dockerfile', () => {
    expect(realpathSync(join(root, 'Dockerfile'))).toBe(realpathSync(join(root, 'deploy/Dockerfile')));
  });

  it('pins both base images by digest and builds in a separate stage', () => {
    const images = [...dockerfile.matchAll(/^ARG \w+_IMAGE=(\S+)$/gm)].map((match) => match[1]);
    expect(images).toHaveLength(2);
    for (const image of images) expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(dockerfile).toMatch(/^RUN npm ci --ignore-scripts$/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
  });

  it('runtime stage: no RUN (no shell there), non-root, volumes, exec-form health check', () => {
    expect(runtimeStage).not.toMatch(/^RUN /m);
    expect(runtimeStage).toMatch(/^USER 65534:65534$/m);
    expect(runtimeStage).toMatch(/^VOLUME \["\/config", "\/auths", "\/logs"\]$/m);
    expect(runtimeStage.replace(/\\\n\s*/g, ' ')).toMatch(/^HEALTHCHECK .* CMD \["\/nodejs\/bin\/node", "-e", /m);
    expect(runtimeStage).toMatch(/^ENTRYPOINT \["\/nodejs\/bin\/node", "\/app\/dist\/cli\/main.js"\]$/m);
    // The lockfile beside the package, root-owned: doctor's installation-lockfile check inside the image.
    expect(runtimeStage).toMatch(/^COPY --chown=0:0 package-lock\.json \/app\/package-lock\.json$/m);
  });
});

describe('deploy/docker-compose.yml', () => {
  const compose = parse(read('deploy/docker-compose.yml')) as { services: Record<string, Record<string, unknown>> };
  const service = compose.services['cliproxyapi']!;

  it('sets the security context line by line', () => {
    expect(service['user']).toBe('65534:65534');
    expect(service['read_only']).toBe(true);
    expect(service['cap_drop']).toEqual(['ALL']);
    expect(service['cap_add']).toBeUndefined(); // port 8317 > 1024
    expect(service['privileged']).toBeUndefined();
    expect(service['security_opt']).toEqual(['no-new-privileges:true', 'seccomp=./seccomp-profile.json']);
    expect(service['tmpfs']).toEqual(['/tmp:rw,noexec,nosuid,nodev,size=100m,mode=1777']);
    expect(service['ports']).toEqual(['127.0.0.1:8317:8317']);
    expect(service['volumes']).toContain('./config:/config:ro');
    expect(service['mem_limit']).toBeDefined();
    expect(service['pids_limit']).toBeDefined();
    expect(service['cpus']).toBeDefined();
  });
});

describe('deploy/config/config.example.yaml', () => {
  const example = read('deploy/config/config.example.yaml');
  const check = (text: string) => {
    const directory = mkdtempSync(join(tmpdir(), 'cliproxy-example-'));
    try {
      writeFileSync(join(directory, 'config.yaml'), text);
      return spawnSync(process.execPath, [join(root, 'dist/cli/main.js'), 'config', 'check', join(directory, 'config.yaml')], { encoding: 'utf8', timeout: 20_000 });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  };

  it('binds 0.0.0.0 with a provisioned client key hash, and is refused until the placeholders are replaced', () => {
    expect(example).toMatch(/^ {2}host: 0\.0\.0\.0$/m);
    const asShipped = check(example);
    expect(asShipped.status).not.toBe(0);
    expect(asShipped.stderr + asShipped.stdout).toContain('placeholder');
    const filled = example
      .replace('<sha256-of-your-client-key>', createHash('sha256').update('cpa_example_key_for_the_test').digest('hex'))
      .replace('<your-openai-api-key>', 'test-upstream-key-0001');
    const result = check(filled);
    expect(result.status, result.stderr).toBe(0);
  });
});

describe('deploy/kubernetes/deployment.yaml', () => {
  it('has the same posture', () => {
    const documents = parseAllDocuments(read('deploy/kubernetes/deployment.yaml')).map((document) => document.toJS() as Record<string, unknown>);
    const deployment = documents.find((document) => document['kind'] === 'Deployment') as { spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } } };
    const pod = deployment.spec.template.spec;
    expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'Localhost' } });
    expect(pod.containers[0]!['securityContext']).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
  });

  it('gives the Secret volumes mode 0440 whichever YAML version reads it (a leading-zero octal is 440 decimal in YAML 1.2)', () => {
    for (const version of ['1.1', '1.2'] as const) {
      const documents = parseAllDocuments(read('deploy/kubernetes/deployment.yaml'), { version }).map((document) => document.toJS() as Record<string, unknown>);
      const deployment = documents.find((document) => document['kind'] === 'Deployment') as { spec: { template: { spec: { volumes: { name: string; secret?: { defaultMode?: number } }[] } } } };
      const modes = deployment.spec.template.spec.volumes.filter((volume) => volume.secret !== undefined).map((volume) => `${volume.name} ${volume.secret?.defaultMode?.toString(8) ?? 'unset'}`);
      expect(modes, `YAML ${version}`).toEqual(['config 440', 'tls 440']);
    }
  });
});
