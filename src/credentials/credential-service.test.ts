import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canaryAccessToken, canaryRefreshToken, oauthRecord, temporaryDirectory, testKeyring } from './__fixtures__/test-support.js';
import { EncryptedFileStore } from './file-store.js';
import { createCredentialService } from './credential-service.js';
import { decryptExport, type EncryptedExport } from './export-encryption.js';
import { createMemorySecurityEvents, createStderrSecurityEvents } from './security-events.js';
import type { StoredCredentialRecord } from './types.js';

let directory: { path: string; remove: () => void };
let store: EncryptedFileStore;
beforeEach(async () => {
  directory = temporaryDirectory();
  store = new EncryptedFileStore({ dir: join(directory.path, 'auths'), keyring: testKeyring() });
  await store.write(oauthRecord('alice-1', { email: 'alice@example.test' }));
  await store.write(oauthRecord('alice-2', { email: 'Alice@Example.test', provider: 'codex' }));
  await store.write(oauthRecord('bob', { email: 'bob@example.test' }));
});
afterEach(() => directory.remove());

describe('credential service (GDPR)', () => {
  it('list never carries a secret', async () => {
    const service = createCredentialService({ store, events: createMemorySecurityEvents(), actor: 'test' });
    const listed = JSON.stringify(await service.list());
    expect(listed).not.toContain('canary');
    expect(listed).toContain('alice@example.test');
  });

  it('export → delete → re-import round trip, plain and passphrase-encrypted', async () => {
    const events = createMemorySecurityEvents();
    const service = createCredentialService({ store, events, actor: 'test' });
    const plain = await service.export({ account: 'alice@example.test' });
    const exported = JSON.parse(plain.content.toString('utf8')) as { credentials: StoredCredentialRecord[] };
    expect(exported.credentials.map((record) => record.id)).toEqual(['alice-1', 'alice-2']);
    expect(exported.credentials[0]?.access_token).toBe(`${canaryAccessToken}-alice-1`);

    const passphrase = Buffer.from('correct horse battery staple');
    const encrypted = await service.export({ all: true }, { passphrase });
    expect(encrypted.content.toString('utf8')).not.toContain('canary');
    const envelope = JSON.parse(encrypted.content.toString('utf8')) as EncryptedExport;
    expect(envelope).toMatchObject({ v: 1, alg: 'scrypt+A256GCM', kdf: { name: 'scrypt', N: 32_768, r: 8, p: 1 } });
    await expect(decryptExport(envelope, Buffer.from('wrong passphrase, sorry'))).rejects.toThrow(/wrong passphrase/);
    const decrypted = JSON.parse((await decryptExport(envelope, passphrase)).toString('utf8')) as { credentials: StoredCredentialRecord[] };
    expect(decrypted.credentials.map((record) => record.refresh_token)).toEqual(['alice-1', 'alice-2', 'bob'].map((id) => `${canaryRefreshToken}-${id}`));

    const dropped: string[] = [];
    store.onDeleted((id) => dropped.push(id));
    expect(await service.delete({ account: 'ALICE@example.test' })).toEqual(['alice-1', 'alice-2']);
    expect(dropped).toEqual(['alice-1', 'alice-2']);
    expect((await store.list()).map((entry) => entry.id)).toEqual(['bob']);
    for (const record of decrypted.credentials.filter((entry) => entry.id !== 'bob')) await store.write(record);
    expect((await store.read('alice-2')).access_token).toBe(`${canaryAccessToken}-alice-2`);

    expect(events.events.map((event) => `${event.event_type}:${event.result}`)).toEqual(['credential-export:success', 'credential-export:success', 'credential-delete:success']);
    expect(JSON.stringify(events.events)).not.toContain('canary');
  });

  it('records failures, and refuses a short passphrase', async () => {
    const lines: string[] = [];
    const service = createCredentialService({ store, events: createStderrSecurityEvents((line) => lines.push(line)), actor: 'cli' });
    await expect(service.delete({ id: 'nobody' })).rejects.toThrow(/no credential 'nobody'/);
    await expect(service.export({ id: 'bob' }, { passphrase: Buffer.from('short') })).rejects.toThrow(/at least 12/);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((line) => [line['event_type'], line['result'], line['level']])).toEqual([
      ['credential-delete', 'failure', 40],
      ['credential-export', 'failure', 40],
    ]);
    expect(lines.join('')).not.toContain('canary');
  });
});
