import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { createTempDirectory, hasTool, projectRoot, run, toolsPresent } from './sandbox.js';

/**
 * The GitHub workflows cannot run here, so their shape is checked instead: valid YAML accepted by
 * a schema linter (action-validator) and yamllint, every action pinned by full commit SHA with its
 * tag in a comment, least-privilege permissions, no script injection through `${{ }}` in shell
 * steps, and the triggers and steps issue #5 requires of each workflow.
 */

type Mapping = Record<string, unknown>;
interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Mapping;
  env?: Mapping;
  if?: string;
}
interface Job {
  'runs-on'?: string;
  permissions?: Mapping | string;
  strategy?: { matrix?: Mapping & { include?: Mapping[] } };
  steps?: Step[];
}
interface Workflow {
  on: Mapping;
  permissions?: Mapping | string;
  jobs: Record<string, Job>;
}

const workflowDirectory = join(projectRoot, '.github/workflows');
const workflowFiles = readdirSync(workflowDirectory).filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'));

function load(path: string): unknown {
  const document = parseDocument(readFileSync(path, 'utf8'), { uniqueKeys: true });
  expect(document.errors.map((error) => error.message), path).toEqual([]);
  return document.toJS() as unknown;
}

const workflows = Object.fromEntries(workflowFiles.map((name) => [name, load(join(workflowDirectory, name)) as Workflow]));
const workflow = (name: string): Workflow => {
  const found = workflows[name];
  if (!found) throw new Error(`missing workflow ${name}`);
  return found;
};
const allSteps = (flow: Workflow): Step[] => Object.values(flow.jobs).flatMap((job) => job.steps ?? []);
const allRuns = (flow: Workflow): string => allSteps(flow).map((step) => step.run ?? '').join('\n');
const allUses = (flow: Workflow): string[] => allSteps(flow).flatMap((step) => (step.uses ? [step.uses] : []));

/** Write permissions each workflow may grant, and only at job level; any other workflow gets none. */
const allowedWrites: Record<string, string[] | undefined> = {
  'ci.yml': [],
  'pr-path-guard.yml': [],
  'secret-scan.yml': [],
  'vuln-scan.yml': ['security-events'],
  'release.yml': ['contents', 'id-token', 'attestations', 'packages'],
};

describe('GitHub workflows: common rules', () => {
  it('has the workflows issue #5 requires', () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(Object.keys(allowedWrites)));
  });

  it.each(workflowFiles)('%s pins every action by full commit SHA and names the tag', (name) => {
    const lines = readFileSync(join(workflowDirectory, name), 'utf8').split('\n').filter((line) => /^\s*(-\s+)?uses:/.test(line));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line, line).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$/);
    }
  });

  it('pins one action to one SHA across all workflows', () => {
    const pins = new Map<string, Set<string>>();
    for (const flow of Object.values(workflows)) {
      for (const uses of allUses(flow)) {
        const [action, sha] = uses.split('@') as [string, string];
        pins.set(action, (pins.get(action) ?? new Set()).add(sha));
      }
    }
    for (const [action, shas] of pins) expect([...shas], action).toHaveLength(1);
  });

  it.each(workflowFiles)('%s grants least privilege', (name) => {
    const flow = workflow(name);
    expect(flow.permissions, 'top-level permissions must be explicit').toEqual({ contents: 'read' });
    for (const [jobName, job] of Object.entries(flow.jobs)) {
      const permissions = job.permissions ?? {};
      expect(typeof permissions, `${jobName}: no write-all/read-all shorthands`).toBe('object');
      const writes = Object.entries(permissions as Mapping).filter(([, level]) => level === 'write').map(([scope]) => scope);
      for (const scope of writes) expect(allowedWrites[name] ?? [], `${name} ${jobName} writes ${scope}`).toContain(scope);
    }
  });

  it.each(workflowFiles)('%s has no script injection and no pull_request_target', (name) => {
    const flow = workflow(name);
    expect(Object.keys(flow.on)).not.toContain('pull_request_target');
    // Untrusted values reach shell steps through env, never by `${{ }}` text substitution.
    for (const step of allSteps(flow)) expect(step.run ?? '', step.name ?? step.run).not.toContain('${{');
    for (const step of allSteps(flow).filter((candidate) => candidate.uses?.startsWith('actions/checkout@'))) {
      expect(step.with?.['persist-credentials'], `${name}: checkout must not leave the token in .git/config`).toBe(false);
    }
  });

  it.each(workflowFiles)('%s bounds every job in time', (name) => {
    for (const [jobName, job] of Object.entries(workflow(name).jobs)) {
      expect((job as Mapping)['timeout-minutes'], jobName).toBeTypeOf('number');
    }
  });
});

describe('GitHub workflows: what each must do', () => {
  it('ci.yml runs Node 20/22/24 on Linux and macOS, amd64 and arm64, with bash .ci/run on Linux', () => {
    const flow = workflow('ci.yml');
    expect(Object.keys(flow.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    const runners = Object.values(flow.jobs).flatMap((job) => (job.strategy?.matrix?.include ?? []).map((entry) => String(entry['runner'])));
    expect(runners).toEqual(expect.arrayContaining(['ubuntu-24.04', 'ubuntu-24.04-arm', 'macos-15', 'macos-15-intel']));
    for (const job of Object.values(flow.jobs)) expect(job.strategy?.matrix?.['node']).toEqual(['20', '22', '24']);
    expect(flow.jobs['linux']?.steps?.some((step) => step.run === 'bash .ci/run')).toBe(true);
    expect(allSteps(flow).find((step) => step.uses?.startsWith('actions/checkout@'))?.with?.['fetch-depth']).toBe(0);
  });

  it('pr-path-guard.yml runs the base commit copy of the guard on pull requests', () => {
    const flow = workflow('pr-path-guard.yml');
    expect(Object.keys(flow.on)).toEqual(['pull_request']);
    const script = allRuns(flow);
    expect(script).toContain('git show "$BASE_SHA:scripts/path-guard.sh"');
    expect(script).toContain('"$BASE_SHA" "$HEAD_SHA"');
  });

  it('secret-scan.yml runs the git-secrets scan over full history and gitleaks', () => {
    const flow = workflow('secret-scan.yml');
    expect(Object.keys(flow.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    expect(allRuns(flow)).toContain('bash scripts/secret-scan.sh');
    expect(allUses(flow).some((uses) => uses.startsWith('gitleaks/gitleaks-action@'))).toBe(true);
    for (const step of allSteps(flow).filter((candidate) => candidate.uses?.startsWith('actions/checkout@'))) {
      expect(step.with?.['fetch-depth']).toBe(0);
    }
  });

  it('vuln-scan.yml runs weekly and on pull requests: npm audit, OSV-Scanner, Trivy fs and image, SARIF', () => {
    const flow = workflow('vuln-scan.yml');
    expect(flow.on['schedule']).toEqual([{ cron: '0 0 * * 0' }]);
    expect(Object.keys(flow.on)).toContain('pull_request');
    expect(allRuns(flow)).toContain('npm audit --audit-level=high');
    expect(allUses(flow).some((uses) => uses.startsWith('google/osv-scanner-action/osv-scanner-action@'))).toBe(true);
    const trivy = allSteps(flow).filter((step) => step.uses?.startsWith('aquasecurity/trivy-action@'));
    expect(trivy.map((step) => step.with?.['scan-type']).sort()).toEqual(['fs', 'image']);
    for (const step of trivy) {
      expect(step.with?.['severity']).toBe('HIGH,CRITICAL');
      expect(step.with?.['exit-code']).toBe('1');
    }
    const uploads = allSteps(flow).filter((step) => step.uses?.startsWith('github/codeql-action/upload-sarif@'));
    expect(uploads).toHaveLength(3);
    for (const upload of uploads) expect(upload.if).toContain('always()');
  });

  it('release.yml on tags: pack, SBOM, SHA256SUMS, minisign, verify, provenance, multi-arch image, cosign', () => {
    const flow = workflow('release.yml');
    expect(Object.keys(flow.on)).toEqual(['push']);
    expect((flow.on['push'] as Mapping)['tags']).toEqual(['v*.*.*']);
    const script = allRuns(flow);
    for (const expected of ['npm pack', 'scripts/sbom.sh', 'scripts/release-sign.sh', 'scripts/verify-release.sh', 'cosign sign --yes']) {
      expect(script).toContain(expected);
    }
    const build = allSteps(flow).find((step) => step.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with?.['platforms']).toBe('linux/amd64,linux/arm64');
    const attestations = allSteps(flow).filter((step) => step.uses?.startsWith('actions/attest-build-provenance@'));
    expect(attestations).toHaveLength(2);
    expect(flow.jobs['image']?.permissions).toMatchObject({ 'id-token': 'write', attestations: 'write', packages: 'write' });
  });

  it('dependabot.yml updates npm, Docker and GitHub Actions', () => {
    const config = load(join(projectRoot, '.github/dependabot.yml')) as { version: number; updates: { 'package-ecosystem': string }[] };
    expect(config.version).toBe(2);
    expect(config.updates.map((update) => update['package-ecosystem']).sort()).toEqual(['docker', 'github-actions', 'npm']);
  });
});

/** action-validator from .ci/steps/code-integrity.sh (or $ACTION_VALIDATOR). */
const actionValidator =
  process.env['ACTION_VALIDATOR'] ?? join(process.env['CODE_INTEGRITY_TOOLS'] ?? join(homedir(), '.cache/cliproxyapi-ci-tools'), 'node_modules/.bin/action-validator');
const validatorPresent = existsSync(actionValidator) || toolsPresent('workflow schema lint', ['action-validator']);

describe.skipIf(!validatorPresent)('workflow schema lint (action-validator)', () => {
  const validator = existsSync(actionValidator) ? actionValidator : 'action-validator';

  it.each(workflowFiles)('accepts %s', (name) => {
    // action-validator 0.6.0 bundles a schema from before GitHub added the `attestations`
    // permission (needed by actions/attest-build-provenance); only those lines are dropped.
    const directory = createTempDirectory('action-validator');
    try {
      const text = readFileSync(join(workflowDirectory, name), 'utf8').replace(/^\s*attestations: write\b.*\n/gm, '');
      const copy = directory.write(name, text);
      const result = run(validator, [copy], { cwd: directory.path });
      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      directory.cleanup();
    }
  });

  it('rejects a workflow with an unknown key (the linter bites)', () => {
    const directory = createTempDirectory('action-validator');
    try {
      const broken = directory.write('broken.yml', 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n        bogus-key: 1\n');
      expect(run(validator, [broken], { cwd: directory.path }).status).not.toBe(0);
    } finally {
      directory.cleanup();
    }
  });
});

/** yamllint's defaults, minus rules that fight GitHub's own style (`on:` keys, long `if:` lines). */
const yamllintConfig = JSON.stringify({
  extends: 'default',
  rules: { 'line-length': { max: 200 }, 'document-start': 'disable', truthy: { 'check-keys': false }, comments: { 'min-spaces-from-content': 1 } },
});

const lintersPresent = toolsPresent('yamllint and shellcheck', ['yamllint', 'shellcheck']);

describe.skipIf(!lintersPresent)('yamllint and shellcheck', () => {
  it('yamllint accepts the workflows and the Dependabot config', () => {
    const result = run('yamllint', ['--strict', '-d', yamllintConfig, '.github'], { cwd: projectRoot });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('shellcheck accepts the scripts, the hook and the CI steps', () => {
    const scripts = readdirSync(join(projectRoot, 'scripts'))
      .filter((name) => name.endsWith('.sh'))
      .map((name) => join('scripts', name));
    const result = run('shellcheck', ['--severity=style', ...scripts, '.githooks/pre-commit', '.ci/steps/code-integrity.sh', '.ci/steps/real-clients.sh'], { cwd: projectRoot });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('shellcheck accepts the shell steps of the workflows', () => {
    const directory = createTempDirectory('shellcheck');
    try {
      const files = Object.entries(workflows).flatMap(([name, flow]) =>
        allSteps(flow)
          .filter((step) => step.run)
          .map((step, index) => directory.write(`${name}-${index}.sh`, `#!/usr/bin/env bash\nset -eo pipefail\n${step.run ?? ''}`)),
      );
      const result = run('shellcheck', ['--severity=warning', ...files], { cwd: directory.path });
      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      directory.cleanup();
    }
  });
});

it('hasTool is a real check', () => {
  expect(hasTool('sh')).toBe(true);
  expect(hasTool('definitely-not-a-tool-0001')).toBe(false);
});
