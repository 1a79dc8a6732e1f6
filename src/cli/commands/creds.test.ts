import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canaryAccessToken, canaryApiKey, canaryRefreshToken, temporaryDirectory, writeTestConfig } from '../../credentials/__fixtures__/test-support.js';
import { decryptExport, type EncryptedExport } from '../../credentials/export-encryption.js';
import type { CliIo } from '../cli-io.js';
import { runCli } from '../program.js';

let directory: { path: string; remove: () => void };
beforeEach(() => {
  directory = temporaryDirectory();
  writeTestConfig(directory.path);
});
afterEach(() => directory.remove());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Every run's output, to check canaries never leak through any command. */
const allOutput: string[] = [];

async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env, cwd: directory.path };
  const code = await runCli(args, io);
  allOutput.push(stdout, stderr);
  return { code, stdout, stderr };
}

function writeGoAuthFile(name: string, fields: Record<string, unknown>): string {
  const path = join(directory.path, name);
  writeFileSync(path, JSON.stringify(fields), { mode: 0o600 });
  return path;
}

/** The audit log the commands write (audit.file's default beside the config): the server's chain. */
function auditText(): string {
  const file = join(directory.path, 'data', 'logs', 'audit.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function expectNoCanary(text: string): void {
  expect(text).not.toContain(canaryAccessToken);
  expect(text).not.toContain(canaryRefreshToken);
  expect(text).not.toContain(canaryApiKey);
}

describe('cliproxyapi creds', () => {
  beforeEach(() => {
    allOutput.length = 0;
  });

  it('import → list → export (file, passphrase, stdout) → delete, with no secret in any output but the explicit stdout export', async () => {
    const goFile = writeGoAuthFile('claude-me@example.test.json', { type: 'claude', email: 'me@example.test', access_token: canaryAccessToken, refresh_token: canaryRefreshToken, expired: '2026-03-01T00:00:00Z' });
    const keyFile = writeGoAuthFile('openai.key', {});
    writeFileSync(keyFile, `${canaryApiKey}\n`);

    const imported = await run(['creds', 'import', goFile, '--delete-source']);
    expect(imported).toMatchObject({ code: 0, stdout: 'imported claude-me-example.test (claude, oauth); source deleted\n' });
    expect(existsSync(goFile)).toBe(false);
    expect((await run(['creds', 'import', keyFile])).stderr).toContain('needs --provider');
    expect((await run(['creds', 'import', keyFile, '--provider', 'openai'])).code).toBe(0);

    const listed = await run(['creds', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID +PROVIDER +KIND +EMAIL +EXPIRES +KEY +UPDATED\n/);
    expect(listed.stdout).toMatch(/\nclaude-me-example\.test +claude +oauth +me@example\.test +2026-03-01T00:00:00\.000Z +k-/);
    expect(listed.stdout).toMatch(/\nopenai\.key +openai +api_key +- +- +k-/);

    const noOut = await run(['creds', 'export', '--all']);
    expect(noOut.code).toBe(1);
    expect(noOut.stderr).toContain('pass --out FILE');
    expect((await run(['creds', 'export', '--out', 'x.json'])).stderr).toContain('name exactly one of');

    const toFile = await run(['creds', 'export', '--account', 'me@example.test', '--out', 'export.json']);
    expect(toFile.code).toBe(0);
    expect(toFile.stderr).toContain('exported 1 credential(s), UNENCRYPTED');
    const exportPath = join(directory.path, 'export.json');
    expect(statSync(exportPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(exportPath, 'utf8')).toContain(canaryRefreshToken);
    expect((await run(['creds', 'export', '--all', '--out', 'export.json'])).stderr).toContain('exists');

    writeFileSync(join(directory.path, 'pass.txt'), 'a long enough passphrase\n', { mode: 0o600 });
    expect((await run(['creds', 'export', '--all', '--passphrase-file', 'pass.txt', '--out', 'sealed.json'])).code).toBe(0);
    const sealed = JSON.parse(readFileSync(join(directory.path, 'sealed.json'), 'utf8')) as EncryptedExport;
    const opened = (await decryptExport(sealed, Buffer.from('a long enough passphrase'))).toString('utf8');
    expect(opened).toContain(canaryApiKey);

    expectNoCanary(allOutput.join(''));
    const security = auditText();
    expectNoCanary(security);
    expect(security).toContain('"event_type":"credential-export"');
    expect(security).toContain('"event_type":"credential-import"');

    const toStdout = await run(['creds', 'export', 'openai.key', '--out', '-']);
    expect(toStdout.stdout).toContain(canaryApiKey);
    expectNoCanary(toStdout.stderr);

    const deleted = await run(['creds', 'delete', '--account', 'me@example.test']);
    expect(deleted).toMatchObject({ code: 0, stdout: 'deleted claude-me-example.test\n' });
    expect(auditText()).toContain('"event_type":"credential-delete"');
    expect(auditText()).toContain('"credential_ids":["claude-me-example.test"]');
    expectNoCanary(auditText());
    expect((await run(['creds', 'list'])).stdout).not.toContain('claude-me');
    expect((await run(['creds', 'delete', 'claude-me-example.test'])).code).toBe(1);
  });

  it('creds check refuses a 0644 credential file with the path and chmod, and --fix-permissions repairs it', async () => {
    const goFile = writeGoAuthFile('codex-a.json', { type: 'codex', access_token: canaryAccessToken });
    expect((await run(['creds', 'import', goFile])).code).toBe(0);
    const stored = join(directory.path, 'auths', 'codex-a.json');
    chmodSync(stored, 0o644);
    const refused = await run(['creds', 'check']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${stored}: mode 0644 lets group or others read it; fix: chmod 600 ${stored}`);
    expect((await run(['creds', 'list'])).code).toBe(1);
    const fixed = await run(['creds', 'check', '--fix-permissions']);
    expect(fixed).toMatchObject({ code: 0, stdout: `credential store OK: ${join(directory.path, 'auths')} (1 credential(s))\n` });
    expect(auditText()).toContain('"event_type":"credential-permissions-fix"');
    expectNoCanary(allOutput.join(''));
  });

  it('creds check --migrate encrypts plaintext files found in auth.dir', async () => {
    expect((await run(['creds', 'check'])).code).toBe(0);
    const plain = join(directory.path, 'auths', 'gemini-x.json');
    writeFileSync(plain, JSON.stringify({ type: 'gemini', token: { access_token: canaryAccessToken, refresh_token: canaryRefreshToken } }), { mode: 0o600 });
    const listed = await run(['creds', 'list']);
    expect(listed.stderr).toContain(`${plain}: holds a credential in clear`);
    expect((await run(['creds', 'check'])).stderr).toContain('--migrate');
    expect((await run(['creds', 'check', '--migrate'])).code).toBe(0);
    expect(readFileSync(plain, 'utf8')).not.toContain(canaryAccessToken);
    expect((await run(['creds', 'list'])).stdout).toMatch(/\ngemini-x +gemini +oauth /);
    expectNoCanary(allOutput.join(''));
  });
});
