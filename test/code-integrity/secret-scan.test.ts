import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitSandbox, type GitSandbox, type Identity, projectRoot, randomText, runScript, toolsPresent } from './sandbox.js';

/**
 * scripts/secret-scan.sh plants canary secrets in throwaway repositories and expects the scan to
 * fail. Every canary is assembled at run time from split prefixes and random characters, so this
 * repository never contains a string that looks like a real credential (and the scan of this
 * repository, last test, stays clean).
 */

const author: Identity = { name: 'Test Author', email: 'author@example.test' };
const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const base64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Canary file contents by kind; each is a fresh random credential of that shape. */
const canaries: Record<string, () => string> = {
  'OpenAI legacy key': () => `OPENAI_API_KEY=${'s' + 'k-'}${randomText(48)}\n`,
  'OpenAI project key': () => `key: "${'sk' + '-proj-'}${randomText(40)}T3Blbk${randomText(40)}"\n`,
  'Anthropic key': () => `ANTHROPIC_API_KEY=${'sk-' + 'ant-'}api03-${randomText(90)}\n`,
  'Google API key': () => `const key = "${'AI' + 'za'}${randomText(35)}";\n`,
  'GitHub personal token': () => `token ${'gh' + 'p_'}${randomText(36)}\n`,
  'GitHub OAuth token': () => `${'gh' + 'o_'}${randomText(36)}\n`,
  'GitHub server token': () => `GH_TOKEN=${'gh' + 's_'}${randomText(36)}\n`,
  'GitHub fine-grained token': () => `${'github' + '_pat_'}${randomText(22)}_${randomText(59)}\n`,
  'AWS access key id': () => `aws_access_key_id = ${'AK' + 'IA'}${randomText(16, upper)}\n`,
  'AWS secret key assignment': () => `aws_secret_access_key = ${randomText(40, base64)}\n`,
  'PEM private key': () => `${'-----BEGIN RSA ' + 'PRIVATE KEY-----'}\nMIIE${randomText(60, base64)}\n-----END RSA PRIVATE KEY-----\n`,
  'OpenSSH private key': () => `${'-----BEGIN OPENSSH ' + 'PRIVATE KEY-----'}\nb3Bl${randomText(60, base64)}\n`,
  'high-entropy refresh_token in JSON': () => `{\n  "refresh_token": "${randomText(43)}"\n}\n`,
  'high-entropy access_token in JSON': () => `{"type":"oauth","access_token":"${'ya' + '29.'}${randomText(60)}"}\n`,
  'high-entropy api_key in JSON': () => `{ "api_key" : "${randomText(32, '0123456789abcdef')}" }\n`,
  'cliproxyapi client key': () => `client: ${'cp' + 'a_'}${randomText(43)}\n`,
};

const enabled = toolsPresent('secret-scan tests', ['git-secrets']);

describe.skipIf(!enabled)('secret scan', () => {
  let sandbox: GitSandbox;

  beforeEach(() => {
    sandbox = createGitSandbox('secret-scan', author);
    sandbox.write('README.md', 'a clean repository\n');
    sandbox.write('auth.example.json', '{ "access_token": "test-access-token-for-fixture", "refresh_token": "fake-refresh-token-000000000001" }\n');
    sandbox.write('src/keys.ts', "export const sample = 'test-upstream-key-0001';\n");
    sandbox.commitAll('clean start', author);
  });

  afterEach(() => sandbox.cleanup());

  const scan = (...mode: string[]) => runScript('secret-scan.sh', [...mode, sandbox.path]);

  it('passes a clean repository (tree and history), placeholders included', () => {
    const result = scan();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('secret-scan: OK');
  });

  it.each(Object.keys(canaries))('fails on a planted %s in the working tree', (kind) => {
    sandbox.write('config/leaked.txt', canaries[kind]!());
    const result = scan('--tree');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('config/leaked.txt');
  });

  it('fails on a secret that lives only in history', () => {
    sandbox.write('notes.txt', canaries['GitHub personal token']!());
    const leaked = sandbox.commitAll('oops', author);
    sandbox.gitOrThrow('rm', '--quiet', 'notes.txt');
    sandbox.commitAll('remove the token (it is still in history)', author);
    expect(scan('--tree').status).toBe(0);
    const history = scan('--history');
    expect(history.status).toBe(1);
    expect(history.stderr).toContain(`${leaked}:notes.txt`);
  });

  it('fails on a high-entropy credential that lives only in history', () => {
    sandbox.write('auths/user.json', canaries['high-entropy refresh_token in JSON']!());
    sandbox.commitAll('oops', author);
    sandbox.gitOrThrow('rm', '--quiet', 'auths/user.json');
    sandbox.commitAll('remove', author);
    const history = scan('--history');
    expect(history.status).toBe(1);
    expect(history.stderr).toContain('auths/user.json');
  });

  it('honours a narrow .gitallowed entry for a fixture, and only for that file', () => {
    const fixture = canaries['Google API key']!();
    sandbox.write('test/fixtures/google-key.ts', fixture);
    sandbox.write('.gitallowed', '# fixture that must look real\n^test/fixtures/google-key\\.ts:[0-9]+:\n');
    expect(scan('--tree').status).toBe(0);
    sandbox.write('src/config.ts', fixture);
    const result = scan('--tree');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('src/config.ts');
    expect(result.stderr).not.toContain('test/fixtures/google-key.ts');
  });

  it('scans staged files in --staged mode, and the pre-commit hook blocks the commit', () => {
    sandbox.write('staged.env', canaries['Anthropic key']!());
    sandbox.gitOrThrow('add', 'staged.env');
    expect(scan('--staged').status).toBe(1);

    // The hook as a clone of this project has it: .githooks/ plus the scanner under scripts/.
    for (const file of ['.githooks/pre-commit', 'scripts/secret-scan.sh', 'scripts/secret-patterns.txt']) {
      chmodSync(sandbox.write(file, readFileSync(join(projectRoot, file), 'utf8')), 0o755);
    }
    sandbox.gitOrThrow('config', 'core.hooksPath', '.githooks');
    const commit = sandbox.git('commit', '--quiet', '-m', 'leak');
    expect(commit.status).not.toBe(0);
    expect(commit.stderr).toContain('staged.env');
    expect(sandbox.git('rev-list', '--count', 'HEAD').stdout.trim()).toBe('1');

    sandbox.gitOrThrow('rm', '--quiet', '--cached', 'staged.env');
    sandbox.write('fine.txt', 'nothing secret\n');
    sandbox.gitOrThrow('add', 'fine.txt');
    expect(sandbox.git('commit', '--quiet', '-m', 'fine').status).toBe(0);
  });

  it('exits 2 on usage errors', () => {
    expect(runScript('secret-scan.sh', ['--bogus', sandbox.path]).status).toBe(2);
    expect(runScript('secret-scan.sh', ['/']).status).toBe(2);
  });
});

describe.skipIf(!enabled)('secret scan of this repository', () => {
  it('finds no secret in the tree or the history', () => {
    const result = runScript('secret-scan.sh', [projectRoot]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
