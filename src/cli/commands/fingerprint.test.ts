import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from '../program.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-fingerprint-cli-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

it('`cliproxyapi fingerprint` prints the same value every time and keeps it 0600 in the data dir', async () => {
  const outputs: string[] = [];
  for (let run = 0; run < 2; run += 1) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['fingerprint'], { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: {}, cwd: directory });
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(stderr).toContain(run === 0 ? 'created' : 'read');
    outputs.push(stdout);
  }
  expect(outputs[1]).toBe(outputs[0]);
  expect(statSync(join(directory, 'data', 'fingerprint.json')).mode & 0o777).toBe(0o600);
});
