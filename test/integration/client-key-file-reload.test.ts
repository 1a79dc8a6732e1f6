import { chownSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyReload } from '../../src/main.js';
import { createClientKey } from '../../src/security/client-keys.js';
import { generateTestClientKey, sha256Hex, startTestGateway, type StartTestGatewayOptions, type TestGateway } from '../helpers/gateway.js';
import { get } from '../helpers/http.js';

/**
 * Issue 9, item 11: another local user replaced the client key file and the hot reload accepted
 * their key. Every reload reads the file through the same checks as the start (regular file, not a
 * symlink, 0600, our uid or root, a directory nobody else can write); a reload that fails them
 * keeps the running keys and logs an error with the catalog code and no key or hash.
 */
const options: StartTestGatewayOptions = { providers: {}, extra: { auth: { client_keys_file: './keys/client-keys.json' } } };
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const otherUid = 65534;

let testGateway: TestGateway;
let keysFile: string;
let ownKey: string;
beforeEach(async () => {
  testGateway = await startTestGateway(options);
  const loaded = testGateway.buildConfig(options);
  keysFile = loaded.config.auth.client_keys_file;
  ownKey = createClientKey(loaded, 'own').key;
  expect(applyReload(testGateway.gateway, loaded)).toBe(true);
});
afterEach(() => testGateway.stop());

async function statusWith(key: string): Promise<number> {
  return (await get(`${testGateway.url}/v1/models`, { authorization: `Bearer ${key}` })).status;
}

/** The attacker's key file: valid JSON listing a key only they know. */
function attackerFile(path: string, attackerKey: string): void {
  writeFileSync(path, JSON.stringify({ v: 1, keys: [{ id: 'mallory', key_sha256: sha256Hex(attackerKey), created_at: '2026-01-01T00:00:00.000Z' }] }), { mode: 0o600 });
}

function expectRefusedReload(attackerKey: string): void {
  expect(applyReload(testGateway.gateway, testGateway.buildConfig(options))).toBe(false);
  const refused = testGateway.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['msg'] === 'config reload refused; keeping the running config');
  expect(refused).toHaveLength(1);
  expect(refused[0]).toMatchObject({ level: 50, code: 'CLIENT_KEY_FILE_UNSAFE', err_message: expect.stringContaining(keysFile) });
  const everything = testGateway.logs.join('\n');
  for (const secret of [attackerKey, sha256Hex(attackerKey), ownKey, sha256Hex(ownKey)]) expect(everything).not.toContain(secret);
}

describe('a hot reload of a client key file another user controls', () => {
  it.skipIf(!isRoot)('a file of another uid renamed over it: reload refused, the running keys stay, the attacker key is 401', async () => {
    expect(await statusWith(ownKey)).toBe(200);
    const attackerKey = generateTestClientKey();
    const planted = join(dirname(keysFile), 'planted.json');
    attackerFile(planted, attackerKey);
    chownSync(planted, otherUid, otherUid);
    renameSync(planted, keysFile);
    expectRefusedReload(attackerKey);
    expect(await statusWith(attackerKey)).toBe(401);
    expect(await statusWith(ownKey)).toBe(200);
  });

  it('a symlink to a file elsewhere put in its place: reload refused, the running keys stay', async () => {
    const attackerKey = generateTestClientKey();
    const elsewhere = join(testGateway.baseDir, 'elsewhere.json');
    attackerFile(elsewhere, attackerKey);
    rmSync(keysFile);
    symlinkSync(elsewhere, keysFile);
    expectRefusedReload(attackerKey);
    expect(await statusWith(attackerKey)).toBe(401);
    expect(await statusWith(ownKey)).toBe(200);
  });
});
