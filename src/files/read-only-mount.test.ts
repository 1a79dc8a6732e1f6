import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretVolume, mountsPermitted, type SecretVolume } from '../../test/helpers/secret-volume.js';
import { loadAuditKey } from '../audit/audit-key.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/config-error.js';
import { CredentialStartupError, prepareCredentialStore } from '../credentials/startup-checks.js';
import { readKeyFile } from '../credentials/keyring.js';
import { readClientKeyFile } from '../security/client-key-file.js';
import { readManagementKeyFile } from '../security/management-key-file.js';
import { checkReadOnlyMountSecret, parseMountInfo } from './read-only-mount.js';
import { checkSecretPath } from './secret-path-check.js';

/**
 * The one permission rule with orchestrator mounts: a Secret-volume-shaped tree (root-owned,
 * 0440 with the fsGroup, `..data` symlinks) is accepted on a REAL read-only bind mount and refused
 * on its writable twin, the very same files. Needs root and mount(2); where mounting is not
 * permitted the suite is skipped and says so.
 */
const permitted = mountsPermitted();
if (!permitted) console.warn('SKIPPED: read-only mount tests need root and mount(2) (mount --bind, remount,ro); the permission rule for orchestrator mounts is NOT tested here');

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const clientKey = `cpa_${randomBytes(24).toString('base64url')}`;
const managementKey = `cpm_${randomBytes(24).toString('base64url')}`;
/** Generated per run, never a real-looking upstream key. */
const upstreamKey = `upstream-test-${randomBytes(12).toString('hex')}`;

let volume: SecretVolume;
let data: string;

function configText(secretDirectory: string): string {
  return [
    'auth:',
    `  dir: ${join(data, 'auths')}`,
    `  client_keys_file: ${join(secretDirectory, 'client-keys.json')}`,
    `  encryption: { enabled: true, key_file: ${join(secretDirectory, 'encryption.key')} }`,
    'providers:',
    '  openai:',
    '    type: openai',
    '    base_url: https://api.openai.com/v1',
    `    api_keys: ["${upstreamKey}"]`,
    '    models: [{ name: gpt-4o-mini }]',
    'audit:',
    `  file: ${join(data, 'logs', 'audit.jsonl')}`,
    '',
  ].join('\n');
}

beforeAll(() => {
  if (!permitted) return;
  data = mkdtempSync(join(tmpdir(), 'cliproxy-ro-data-'));
  mkdirSync(join(data, 'auths'), { mode: 0o700 });
  // The config names files on the mount it is read from: the same text serves both twins.
  const placeholderDirectory = '@VOLUME@';
  volume = createSecretVolume(
    [
      { name: 'config.yaml', content: configText(placeholderDirectory) },
      { name: 'client-keys.json', content: JSON.stringify({ v: 1, keys: [{ id: 'alice', key_sha256: digest(clientKey), created_at: '2026-12-03T15:00:00.000Z' }] }) },
      { name: 'management-keys.json', content: JSON.stringify({ v: 1, keys: [{ id: 'ops', role: 'admin', key_sha256: digest(managementKey), created_at: '2026-12-03T15:00:00.000Z' }] }) },
      { name: 'encryption.key', content: `${randomBytes(32).toString('base64')}\n` },
      { name: 'audit.key', content: `${randomBytes(32).toString('hex')}\n` },
      { name: 'world-readable.key', content: 'x', mode: 0o444 },
      { name: 'group-writable.key', content: 'x', mode: 0o460 },
      { name: 'not-root.key', content: 'x', uid: 65534, mode: 0o400 },
    ],
    [{ name: 'escaping.key', target: join(data, 'outside.key') }],
  );
  writeFileSync(join(data, 'outside.key'), 'x', { mode: 0o600 });
});
afterAll(() => {
  if (!permitted) return;
  volume.remove();
  rmSync(data, { recursive: true, force: true });
});

/** The config of one twin: the text with the twin's own directory in place of the marker. */
function loadTwin(directory: string) {
  const path = join(data, `config-${directory === volume.readOnly ? 'ro' : 'rw'}.yaml`);
  writeFileSync(path, readFileSync(join(directory, 'config.yaml'), 'utf8').replaceAll('@VOLUME@', directory), { mode: 0o600 });
  const loaded = loadConfig({ path, env: {} });
  // The config itself is checked where it lies, on the volume: point configPath there.
  return { ...loaded, configPath: join(directory, 'config.yaml') };
}

describe.skipIf(!permitted)('secrets on a read-only mount shaped like a Kubernetes Secret volume', () => {
  it('reads the mount table: the bind mount is read-only, its source is not', () => {
    expect(checkReadOnlyMountSecret(join(volume.readOnly, 'config.yaml'), 'file')).toMatchObject({ mountPoint: volume.readOnly, linksStayInside: true, problems: [] });
    expect(checkReadOnlyMountSecret(join(volume.writable, 'config.yaml'), 'file')).toBeUndefined();
    expect(parseMountInfo('36 35 98:0 /a /mnt/with\\040space ro,relatime - ext4 /dev/x rw\n')).toEqual([{ mountPoint: '/mnt/with space', readOnly: true }]);
  });

  it('checkSecretPath accepts the root-owned 0440 symlinked file on the read-only mount and refuses its writable twin', async () => {
    expect(await checkSecretPath(join(volume.readOnly, 'config.yaml'), { kind: 'file', containingDirectory: volume.readOnly })).toEqual([]);
    const refused = await checkSecretPath(join(volume.writable, 'config.yaml'), { kind: 'file', containingDirectory: volume.writable });
    expect(refused.map((finding) => finding.problem)).toEqual(['is a symlink; secret files are opened without following symlinks']);
  });

  it.each([
    ['world-readable.key', 'lets others read it'],
    ['group-writable.key', 'lets its group write it'],
    ['not-root.key', 'owned by uid 65534, not root'],
    ['escaping.key', 'is a symlink pointing out of'],
  ])('still refuses %s on the read-only mount (%s)', async (name, problem) => {
    const findings = await checkSecretPath(join(volume.readOnly, name), { kind: 'file', containingDirectory: volume.readOnly });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.problem).toContain(problem);
    expect(findings[0]?.repair).toBeUndefined();
  });

  it('the client and management key files are read through the same rule', () => {
    expect(readClientKeyFile(join(volume.readOnly, 'client-keys.json')).map((key) => key.id)).toEqual(['alice']);
    expect(readManagementKeyFile(join(volume.readOnly, 'management-keys.json')).map((key) => key.id)).toEqual(['ops']);
    expect(() => readClientKeyFile(join(volume.writable, 'client-keys.json'))).toThrow(ConfigError);
    expect(() => readManagementKeyFile(join(volume.writable, 'management-keys.json'))).toThrow(/symlink/);
  });

  it('the encryption key file and the audit key are read through the same rule', async () => {
    expect((await readKeyFile(join(volume.readOnly, 'encryption.key'))).source).toBe('key_file');
    await expect(readKeyFile(join(volume.writable, 'encryption.key'))).rejects.toThrow(/symlink/);
    expect(await loadAuditKey(join(volume.readOnly, 'audit.key'), { create: false })).toHaveLength(32);
    await expect(loadAuditKey(join(volume.writable, 'audit.key'), { create: false })).rejects.toThrow(/symlink/);
  });

  it('serve and creds check (prepareCredentialStore) start from the read-only mount and refuse the writable twin', async () => {
    const prepared = await prepareCredentialStore(loadTwin(volume.readOnly), { readOnly: true, env: {}, events: { record: () => undefined } });
    expect(prepared.encryptedStore).toBeDefined();
    const refusal = await prepareCredentialStore(loadTwin(volume.writable), { readOnly: true, env: {}, events: { record: () => undefined } }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(CredentialStartupError);
    const problems = (refusal as CredentialStartupError).problems.join('\n');
    for (const name of ['config.yaml', 'client-keys.json', 'encryption.key']) expect(problems).toContain(join(volume.writable, name));
  });
});
