import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DoctorReportSchema, type DoctorReport } from '../../src/doctor/report-schema.js';
import { check, doctor } from './doctor-run.js';
import { serializeEventFields } from '../../src/audit/audit-record.js';
import { AuditFileWriter } from '../../src/audit/audit-writer.js';
import { runCliCaptured } from '../helpers/cli-in-process.js';
import { createHardenedTree, hardenedConfig, patched, type HardenedTree } from './hardened-tree.js';

/**
 * `cliproxyapi doctor` on real file trees: the clean hardened deployment passes from any working
 * directory; each breakage below produces exactly its own failure (or warning) with its fix, and
 * no other; the report is one JSON document valid against docs/doctor-report.schema.json; the
 * doctor changes nothing on disk.
 */
let tree: HardenedTree;
beforeEach(async () => {
  tree = await createHardenedTree();
});
afterEach(() => tree.remove());

/**
 * The checks that warned or failed, as `id:status`. A repository checkout carries no SBOM (a
 * release does), so `installation-sbom` warns in every run here; its own test is in
 * doctor-deployment.test.ts.
 */
function problems(report: DoctorReport): string[] {
  expect(check(report, 'installation-sbom').status).toBe('warn');
  return report.checks.filter((entry) => (entry.status === 'warn' || entry.status === 'fail') && entry.id !== 'installation-sbom').map((entry) => `${entry.id}:${entry.status}`);
}


/** Every path under `root` with its mode, size and mtime: what "read-only" must leave alone. */
function snapshot(root: string): string[] {
  const entries: string[] = [];
  const walk = (directory: string): void => {
    for (const name of readdirSync(directory).sort()) {
      const path = join(directory, name);
      const stats = statSync(path);
      entries.push(`${path} ${stats.mode.toString(8)} ${stats.size} ${stats.mtimeMs}`);
      if (stats.isDirectory()) walk(path);
    }
  };
  walk(root);
  return entries;
}

describe('cliproxyapi doctor: the clean hardened deployment', () => {
  it('passes every check with exit 0 from any working directory (the checkout\'s missing SBOM the only warning)', async () => {
    const before = snapshot(tree.root);
    for (const [cwd, args, env] of [
      ['/', ['--config', tree.configPath], {}],
      [tree.root, ['--config', 'config.yaml'], {}],
      [tree.data, [], { CLIPROXY_CONFIG: tree.configPath }],
    ] as const) {
      const run = await doctor([...args], cwd, env);
      expect(problems(run.report)).toEqual([]);
      expect(run.code).toBe(0);
      expect(check(run.report, 'installation-lockfile').status).toBe('pass');
      expect(run.report.config).toBe(tree.configPath);
      expect(check(run.report, 'audit').message).toContain('no file yet');
    }
    expect(snapshot(tree.root)).toEqual(before);
  });

  it('prints one line per check with the fix in text mode', async () => {
    tree.writeConfig(patched(hardenedConfig(), { alerts: [] }));
    const run = await runCliCaptured(['doctor', '--container', 'no', '--config', tree.configPath], '/', { env: {} });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^PASS {2}config +\S/m);
    expect(run.stdout).toMatch(/^WARN {2}alerts +no alert rule on auth_failures or rate_limit_violations$/m);
    expect(run.stdout).toMatch(/^ +fix: add rules such as/m);
    expect(run.stdout).toMatch(/pass, 2 warn, 0 fail, \d+ skip: OK\n$/);
    expect((await runCliCaptured(['doctor', '--strict', '--container', 'no', '--config', tree.configPath], '/', { env: {} })).code).toBe(1);
  });
});

interface Breakage {
  name: string;
  breakIt: (tree: HardenedTree) => void | Promise<void>;
  expected: string;
  fix: RegExp;
  args?: string[];
}

const withConfig = (patch: Record<string, unknown>) => (broken: HardenedTree) => broken.writeConfig(patched(hardenedConfig(), patch));
const upstreamKey = () => `upstream-test-${randomBytes(12).toString('hex')}`;

const breakages: Breakage[] = [
  { name: 'a non-loopback bind without TLS', breakIt: withConfig({ server: { host: '0.0.0.0', security: { ip_allowlist: { enabled: true, allowed_ips: ['10.0.0.0/8'] } } } }), expected: 'tls:fail', fix: /server\.tls\.enabled: true/ },
  { name: 'a placeholder client key', breakIt: withConfig({ auth: { api_keys: [{ id: 'bob', key: 'changeme' }] } }), expected: 'client-keys:fail', fix: /keys create/ },
  { name: 'a plain client key in the config', breakIt: withConfig({ auth: { api_keys: [{ id: 'bob', key: randomBytes(30).toString('base64url') }] } }), expected: 'client-keys:warn', fix: /key_sha256/ },
  { name: 'remote management without TLS', breakIt: withConfig({ management: { enabled: true, allow_remote: true } }), expected: 'management:fail', fix: /management settings/ },
  { name: 'a group-readable encryption key file', breakIt: (broken) => chmodSync(join(broken.data, 'encryption.key'), 0o640), expected: 'permissions:fail', fix: /fix-permissions/ },
  { name: 'a listable auth.dir', breakIt: (broken) => chmodSync(join(broken.data, 'auths'), 0o755), expected: 'permissions:fail', fix: /fix-permissions/ },
  { name: 'encryption off', breakIt: withConfig({ auth: { encryption: { enabled: false } } }), expected: 'encryption:fail', fix: /auth\.encryption\.enabled: true/ },
  { name: 'no encryption key (serve would refuse, doctor generates none)', breakIt: (broken) => rmSync(join(broken.data, 'encryption.key')), expected: 'encryption:fail', fix: /encryption keygen/ },
  {
    name: 'a plaintext credential file',
    breakIt: (broken) => writeFileSync(join(broken.data, 'auths', 'claude-bob.json'), JSON.stringify({ type: 'claude', email: 'bob@example.test', access_token: 'canary-access-doctor', refresh_token: 'canary-refresh-doctor' }), { mode: 0o600 }),
    expected: 'plaintext-credentials:fail',
    fix: /--migrate/,
  },
  { name: 'the per-IP rate limit off', breakIt: withConfig({ server: { security: { rate_limit: { enabled: false } } } }), expected: 'rate-limit:fail', fix: /rate_limit\.enabled: true/ },
  { name: 'a denylist refusing every IPv4 client', breakIt: withConfig({ server: { security: { ip_denylist: ['0.0.0.0/0'] } } }), expected: 'ip-lists:fail', fix: /correct the entries/ },
  {
    name: 'a provider allowed onto private networks',
    breakIt: withConfig({ providers: { local: { type: 'openai', base_url: 'https://llm.internal.example/v1', api_keys: [upstreamKey()], models: [{ name: 'local-model' }], allow_private_network: true } } }),
    expected: 'providers:warn',
    fix: /allow_private_network/,
  },
  { name: 'the audit log off', breakIt: withConfig({ audit: { enabled: false } }), expected: 'audit:fail', fix: /audit\.enabled: true/ },
  { name: 'a tampered audit record', breakIt: tamperAuditLog, expected: 'audit-chain:fail', fix: /incident-response/ },
  { name: 'no alert rules', breakIt: withConfig({ alerts: [] }), expected: 'alerts:warn', fix: /auth_failures > 100/ },
  { name: 'three replicas on the memory state backend', breakIt: () => undefined, args: ['--replicas', '3'], expected: 'replicas:fail', fix: /backend: redis/ },
  { name: 'an unknown config key', breakIt: withConfig({ server: { hots: '127.0.0.1' } }), expected: 'config:fail', fix: /config check/ },
];

/** Three HMAC-chained records written by the real writer, then one edited in place. */
async function tamperAuditLog(broken: HardenedTree): Promise<void> {
  const logs = join(broken.data, 'logs');
  mkdirSync(logs, { mode: 0o700 });
  const file = join(logs, 'audit.jsonl');
  const key = Buffer.from(readFileSync(join(broken.data, 'audit.key'), 'utf8').trim(), 'hex');
  const writer = new AuditFileWriter({ file, key, maxFileBytes: 1_048_576, flushIntervalMs: 5_000, onError: (error) => { throw error; } });
  for (const detail of ['first', 'second', 'third']) writer.enqueue(serializeEventFields({ event_type: 'test-event', result: 'success', actor: 'test', detail }, Date.now()));
  await writer.close();
  writeFileSync(file, readFileSync(file, 'utf8').replace('"second"', '"edited"'), { mode: 0o600 });
}

describe('cliproxyapi doctor: one breakage, exactly that failure with its fix', () => {
  it.each(breakages)('$name → $expected', async ({ breakIt, expected, fix, args = [] }) => {
    await breakIt(tree);
    const before = snapshot(tree.root);
    const run = await doctor(['--config', tree.configPath, ...args]);
    expect(problems(run.report)).toEqual([expected]);
    const [id, status] = expected.split(':') as [string, string];
    expect(check(run.report, id).fix).toMatch(fix);
    expect(run.code).toBe(status === 'fail' ? 1 : 0);
    expect(run.stdout).not.toContain('canary-');
    expect(snapshot(tree.root)).toEqual(before);
  });

  it('a tampered audit log is also what `audit verify` reports', async () => {
    await tamperAuditLog(tree);
    const run = await doctor(['--config', tree.configPath]);
    const verify = await runCliCaptured(['audit', 'verify', '--config', tree.configPath], '/', { env: {} });
    expect(verify.code).toBe(1);
    expect(check(run.report, 'audit-chain').message).toContain('broken');
  });

  it('an encryption key older than a quarter warns with its date', async () => {
    tree.remove();
    tree = await createHardenedTree({ keyCreatedAt: new Date(Date.now() - 200 * 86_400_000) });
    const run = await doctor(['--config', tree.configPath]);
    expect(problems(run.report)).toEqual(['encryption-key-age:warn']);
    expect(check(run.report, 'encryption-key-age').message).toMatch(/created \d{4}-\d{2}-\d{2} \(200 days ago/);
    expect(check(run.report, 'encryption-key-age').fix).toMatch(/encryption rotate/);
  });
});

describe('cliproxyapi doctor: what would stop serve becomes failed checks, never a crash', () => {
  it('the placeholder key inline and the audit log off fail on both, each with its fix', async () => {
    tree.writeConfig(patched(hardenedConfig(), { auth: { encryption: { key: 'YOUR_32_BYTE_ENCRYPTION_KEY_HERE' } }, audit: { enabled: false } }));
    const run = await doctor(['--config', tree.configPath]);
    expect(problems(run.report)).toEqual(['encryption:fail', 'audit:fail']);
    expect(check(run.report, 'encryption').message).toContain('documentation placeholder');
    expect(check(run.report, 'encryption').fix).toMatch(/delete auth\.encryption\.key.*encryption keygen/);
    expect(check(run.report, 'audit').fix).toMatch(/audit\.enabled: true/);
    expect(run.code).toBe(1);
  });

  it('unparsable YAML and a missing file fail the config check and skip the rest', async () => {
    writeFileSync(tree.configPath, 'server: [unclosed\n', { mode: 0o600 });
    for (const path of [tree.configPath, join(tree.root, 'missing.yaml')]) {
      const run = await doctor(['--config', path]);
      expect(problems(run.report)).toEqual(['config:fail']);
      expect(run.report.checks.filter((entry) => entry.id !== 'config' && !entry.id.startsWith('installation-')).every((entry) => entry.status === 'skip' || entry.status === 'pass')).toBe(true);
      expect(run.code).toBe(1);
    }
    expect(existsSync(join(tree.root, 'missing.yaml'))).toBe(false);
  });

  it('the report schema published in docs/ is the one the output is validated against', () => {
    const published = JSON.parse(readFileSync(new URL('../../docs/doctor-report.schema.json', import.meta.url), 'utf8')) as unknown;
    expect(published).toEqual(JSON.parse(JSON.stringify(DoctorReportSchema)));
  });
});
