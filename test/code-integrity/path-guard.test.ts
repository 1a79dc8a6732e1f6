import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitSandbox, type GitSandbox, type Identity, projectRoot, run, runScript } from './sandbox.js';

/**
 * scripts/path-guard.sh against a throwaway repository: maintainers may change protected paths,
 * anyone may change the rest, and an outsider's change to a protected path fails the guard, also
 * when it hides in a merge or in a change to MAINTAINERS itself.
 */

const maintainer: Identity = { name: 'Alice Maintainer', email: 'alice@example.test' };
const outsider: Identity = { name: 'Mallory Outsider', email: 'mallory@example.test' };

let sandbox: GitSandbox;
let base: string;

beforeEach(() => {
  sandbox = createGitSandbox('path-guard', maintainer);
  sandbox.write('MAINTAINERS', `# maintainers\n${maintainer.name} <${maintainer.email}> @alice\n`);
  sandbox.write('README.md', 'readme\n');
  sandbox.write('src/translate/openai-to-anthropic/request.ts', 'export const a = 1;\n');
  sandbox.write('src/providers/openai/adapter.ts', 'export const b = 1;\n');
  sandbox.write('src/security/redact.ts', 'export const c = 1;\n');
  base = sandbox.commitAll('base', maintainer);
});

afterEach(() => sandbox.cleanup());

const guard = (...extra: string[]) => runScript('path-guard.sh', ['--repo', sandbox.path, ...extra, base, 'HEAD']);

describe('path guard', () => {
  it('passes a maintainer changing protected paths', () => {
    sandbox.write('src/security/redact.ts', 'export const c = 2;\n');
    sandbox.write('src/credentials/store.ts', 'export const d = 1;\n');
    sandbox.commitAll('maintainer change', maintainer);
    const result = guard();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('1 commit(s) checked');
  });

  it('passes an outsider changing unprotected paths', () => {
    sandbox.write('README.md', 'better readme\n');
    sandbox.write('src/server/app.ts', 'export const e = 1;\n');
    sandbox.commitAll('docs', outsider);
    expect(guard().status).toBe(0);
  });

  it.each([
    ['src/providers/openai/adapter.ts', 'export const b = 2;\n'],
    ['src/translate/openai-to-anthropic/request.ts', 'export const a = 2;\n'],
    ['src/credentials/new-store.ts', 'export const d = 1;\n'],
    ['src/security/redact.ts', 'export const c = 3;\n'],
    ['.github/workflows/ci.yml', 'on: push\n'],
  ])('fails an outsider changing %s', (path, content) => {
    sandbox.write('README.md', 'cover change\n');
    sandbox.commitAll('harmless first', outsider);
    sandbox.write(path, content);
    const commit = sandbox.commitAll('sneaky', outsider);
    const result = guard();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(commit.slice(0, 12));
    expect(result.stderr).toContain(path);
    expect(result.stderr).toContain('Mallory Outsider <mallory@example.test>');
    expect(result.stderr).toContain('1 of 2 commit(s)');
  });

  it('fails an outsider deleting a protected file', () => {
    sandbox.gitOrThrow('rm', '--quiet', 'src/security/redact.ts');
    sandbox.commitAll('remove redaction', outsider);
    expect(guard().status).toBe(1);
  });

  it('needs both the name and the email of a maintainer; the email is case-insensitive', () => {
    sandbox.write('src/security/redact.ts', 'export const c = 4;\n');
    sandbox.commitAll('same name, other email', { name: maintainer.name, email: 'alice@elsewhere.test' });
    expect(guard().status).toBe(1);

    sandbox.gitOrThrow('reset', '--quiet', '--hard', base);
    sandbox.write('src/security/redact.ts', 'export const c = 5;\n');
    sandbox.commitAll('upper-case email', { name: maintainer.name, email: 'ALICE@Example.TEST' });
    expect(guard().status).toBe(0);
  });

  it('reads MAINTAINERS from BASE: an outsider adding themselves gains nothing', () => {
    sandbox.write('MAINTAINERS', `${maintainer.name} <${maintainer.email}>\n${outsider.name} <${outsider.email}>\n`);
    sandbox.commitAll('promote myself', outsider);
    sandbox.write('src/security/redact.ts', 'export const c = 6;\n');
    sandbox.commitAll('now change security code', outsider);
    const result = guard();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('2 of 2 commit(s)');
    expect(result.stderr).toContain('MAINTAINERS');
  });

  it('uses an explicit --maintainers file, and fails with 2 when BASE has no MAINTAINERS', () => {
    sandbox.write('src/security/redact.ts', 'export const c = 9;\n');
    sandbox.commitAll('outsider change', outsider);
    const list = sandbox.write('maintainers-override', `${outsider.name} <${outsider.email}>\n`);
    expect(guard('--maintainers', list).status).toBe(0);
    sandbox.gitOrThrow('rm', '--quiet', 'MAINTAINERS');
    const withoutList = sandbox.commitAll('drop the list', maintainer);
    expect(runScript('path-guard.sh', ['--repo', sandbox.path, withoutList, 'HEAD']).status).toBe(2);
  });

  it('does not blame a merge for the maintainer commits it brings in, but catches an evil merge', () => {
    sandbox.gitOrThrow('checkout', '--quiet', '-b', 'feature');
    sandbox.write('docs.md', 'outsider docs\n');
    sandbox.commitAll('outsider docs', outsider);
    sandbox.gitOrThrow('checkout', '--quiet', 'main');
    sandbox.write('src/providers/openai/adapter.ts', 'export const b = 3;\n');
    sandbox.commitAll('maintainer provider fix', maintainer);
    sandbox.gitOrThrow('checkout', '--quiet', 'feature');
    sandbox.gitOrThrow('merge', '--quiet', '--no-edit', 'main');
    expect(guard().status).toBe(0);

    sandbox.gitOrThrow('checkout', '--quiet', 'main');
    sandbox.write('src/security/redact.ts', 'export const c = 7;\n');
    sandbox.commitAll('maintainer security fix', maintainer);
    sandbox.gitOrThrow('checkout', '--quiet', 'feature');
    sandbox.gitOrThrow('merge', '--quiet', '--no-commit', '--no-ff', 'main');
    sandbox.write('src/translate/openai-to-anthropic/request.ts', 'export const a = "evil";\n');
    sandbox.commitAll('Merge branch main', outsider);
    const result = guard();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('src/translate/openai-to-anthropic/request.ts');
    expect(result.stderr).not.toContain('src/security/redact.ts');
  });

  it('warns when translator logic changes, not for translator tests or fixtures', () => {
    sandbox.write('src/translate/openai-to-anthropic/request.test.ts', 'test\n');
    sandbox.write('src/translate/openai-to-anthropic/__fixtures__/case.json', '{}\n');
    sandbox.commitAll('tests only', maintainer);
    const quiet = guard();
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).not.toContain('WARNING');

    sandbox.write('src/translate/openai-to-anthropic/request.ts', 'export const a = 8;\n');
    sandbox.commitAll('translator change', maintainer);
    const warned = runScript('path-guard.sh', ['--repo', sandbox.path, base, 'HEAD'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(warned.status).toBe(0);
    expect(warned.stderr).toContain('WARNING: translator logic changed');
    expect(warned.stdout).toContain('::warning::translator logic changed');
    expect(warned.stdout).toContain('src/translate/openai-to-anthropic/request.ts');
  });

  it('rejects bad arguments with exit code 2', () => {
    expect(runScript('path-guard.sh', ['--repo', sandbox.path, base]).status).toBe(2);
    expect(runScript('path-guard.sh', ['--repo', sandbox.path, 'no-such-commit', 'HEAD']).status).toBe(2);
    expect(guard('--maintainers', '/nonexistent/MAINTAINERS').status).toBe(2);
  });
});

describe('path guard configuration of this repository', () => {
  const protectedPaths = runScript('path-guard.sh', ['--list-protected']).stdout.trim().split('\n');

  it('protects the translation, credential, provider and security code, and the operational security layers', () => {
    for (const path of ['src/translate/', 'src/credentials/', 'src/providers/', 'src/security/', 'src/audit/', 'src/management/', 'src/metrics/', 'src/alerts/', 'MAINTAINERS']) {
      expect(protectedPaths).toContain(path);
    }
  });

  it('gives every protected path a code owner', () => {
    const owned = readFileSync(join(projectRoot, '.github/CODEOWNERS'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length >= 2 && fields.slice(1).every((owner) => owner.startsWith('@')))
      .map((fields) => fields[0]);
    for (const path of protectedPaths) expect(owned).toContain(`/${path}`);
  });

  it('lists at least one maintainer, and this repository history passes the guard', () => {
    const maintainers = readFileSync(join(projectRoot, 'MAINTAINERS'), 'utf8').split('\n').filter((line) => /^[^#\s].*<[^>]+@[^>]+>/.test(line));
    expect(maintainers.length).toBeGreaterThan(0);
    const roots = run('git', ['rev-list', '--max-parents=0', 'HEAD'], { cwd: projectRoot }).stdout.trim().split('\n');
    // The first commits predate MAINTAINERS, so the current list is passed explicitly.
    const result = runScript('path-guard.sh', ['--maintainers', join(projectRoot, 'MAINTAINERS'), roots[0]!, 'HEAD']);
    expect(result.stderr).not.toContain('ERROR');
    expect(result.status).toBe(0);
    // The guard runs git for every commit since the first: the work grows with the history (3 s
    // alone at ~200 commits, past the 20 s default while the rest of the suite loads both cores).
  }, 90_000);
});
