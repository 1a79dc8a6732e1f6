import { existsSync, readFileSync } from 'node:fs';
import { mountOf } from '../../files/read-only-mount.js';
import { fail, pass, skip, type CheckResult, type DoctorContext } from '../check-result.js';

/**
 * Inside the container, what actually applies to this process, from the kernel's own account
 * (`/proc/self/status`, `/proc/self/mountinfo`), not from the compose file or the manifest: a
 * non-root uid, a read-only root filesystem, no effective capability, seccomp filter mode 2 and
 * no-new-privileges. Run `doctor` in the deployed container (`kubectl exec`, `podman exec`) so the
 * same posture as the server's is judged. Outside a container the checks are skipped; `--container
 * no` says a CI runner that happens to be a container is not the deployment's.
 */
export type ContainerMode = DoctorContext['containerMode'];

export const containerCheckIds = ['container-user', 'container-read-only-root', 'container-capabilities', 'container-seccomp', 'container-no-new-privileges'] as const;

/** Why we believe this is a container, or undefined. The engines' own markers first. */
export function containerEvidence(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (existsSync('/run/.containerenv')) return '/run/.containerenv (podman)';
  if (existsSync('/.dockerenv')) return '/.dockerenv (docker)';
  if (env['KUBERNETES_SERVICE_HOST'] !== undefined) return 'KUBERNETES_SERVICE_HOST (Kubernetes)';
  if (env['container'] !== undefined && env['container'] !== '') return `container=${env['container']}`;
  try {
    const cgroups = readFileSync('/proc/1/cgroup', 'utf8');
    const engine = /(docker|kubepods|libpod|containerd|crio)/.exec(cgroups)?.[1];
    if (engine !== undefined) return `/proc/1/cgroup (${engine})`;
  } catch {
    // No /proc: not Linux, so no container of ours either.
  }
  return undefined;
}

/** `Name:\tvalue` lines of /proc/self/status. */
export function parseProcStatus(text: string): ReadonlyMap<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const separator = line.indexOf(':');
    if (separator > 0) fields.set(line.slice(0, separator), line.slice(separator + 1).trim());
  }
  return fields;
}

/** What the container checks judge; read from the kernel by {@link readContainerFacts}. */
export interface ContainerFacts {
  status: ReadonlyMap<string, string>;
  rootReadOnly: boolean | undefined;
}

export function readContainerFacts(): ContainerFacts {
  return { status: parseProcStatus(readFileSync('/proc/self/status', 'utf8')), rootReadOnly: mountOf('/')?.readOnly };
}

/** The five checks over facts; pure, so each rule is tested on its own and once in a real container. */
export function judgeContainer(facts: ContainerFacts, evidence: string): CheckResult[] {
  const field = (name: string) => facts.status.get(name) ?? '(absent)';
  const uids = field('Uid').split(/\s+/);
  const results: CheckResult[] = [];
  results.push(
    uids.every((uid) => uid !== '0')
      ? pass('container-user', `runs as uid ${uids[1] ?? uids[0] ?? '?'} (${evidence})`)
      : fail('container-user', `runs as root (Uid: ${field('Uid')}) in a container`, 'run as an unprivileged user: --user 65534:65534 (Kubernetes: runAsNonRoot: true, runAsUser: 65534)'),
  );
  results.push(
    facts.rootReadOnly === true
      ? pass('container-read-only-root', 'the root filesystem is mounted read-only')
      : fail('container-read-only-root', 'the root filesystem is writable: a compromised process can rewrite the app', 'start with --read-only (Kubernetes: readOnlyRootFilesystem: true) and a tmpfs for /tmp'),
  );
  const capabilities = field('CapEff');
  results.push(
    /^0+$/.test(capabilities)
      ? pass('container-capabilities', 'no effective capability (CapEff 0)')
      : fail('container-capabilities', `effective capabilities ${capabilities}`, 'drop them all: --cap-drop ALL (Kubernetes: capabilities.drop: [ALL])'),
  );
  results.push(
    field('Seccomp') === '2'
      ? pass('container-seccomp', 'seccomp filter on (mode 2)')
      : fail('container-seccomp', `seccomp mode ${field('Seccomp')}: no system call filter`, 'apply deploy/seccomp-profile.json: --security-opt seccomp=deploy/seccomp-profile.json (Kubernetes: seccompProfile Localhost profiles/cliproxyapi.json)'),
  );
  results.push(
    field('NoNewPrivs') === '1'
      ? pass('container-no-new-privileges', 'no-new-privileges set (NoNewPrivs 1)')
      : fail('container-no-new-privileges', 'no-new-privileges is not set: a setuid binary could raise privileges', '--security-opt no-new-privileges (Kubernetes: allowPrivilegeEscalation: false)'),
  );
  return results;
}

/** All five, or five skips; `--container` decides whether this is the deployment's container. */
export function checkContainer(context: DoctorContext): CheckResult[] {
  const evidence = context.containerMode === 'no' ? undefined : containerEvidence(context.env);
  if (context.containerMode === 'no' || (context.containerMode === 'auto' && evidence === undefined)) {
    const why = context.containerMode === 'no' ? 'skipped: --container no (this is not the deployment\'s container)' : 'not in a container (no /.dockerenv, /run/.containerenv, container cgroup or Kubernetes environment)';
    return containerCheckIds.map((id) => skip(id, why));
  }
  return judgeContainer(readContainerFacts(), evidence ?? '--container yes');
}
