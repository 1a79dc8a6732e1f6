import { afterEach, describe, expect, it } from 'vitest';
import { EncryptedFileStore } from '../credentials/file-store.js';
import { reloadKeyring } from '../credentials/live-checks.js';
import { generateKey, Keyring, readKeyFile, writeKeyFile } from '../credentials/keyring.js';
import { createMemorySecurityEvents } from '../credentials/security-events.js';
import { oauthRecord, temporaryDirectory } from '../credentials/__fixtures__/test-support.js';
import type { UpstreamCredential } from '../providers/types.js';
import { MemoryStateBackend } from '../state/memory.js';
import { CredentialSync } from './credential-sync.js';
import { CredentialRefresher } from './refresh.js';
import { RefreshScheduler } from './refresh-scheduler.js';
import { captureLogger } from './__fixtures__/refresh-support.js';
import { join } from 'node:path';

/**
 * The sync pass against a real encrypted store in a temp dir: what joins, what leaves (and in which
 * order), when a file's tokens replace the running ones and when memory is newer than the file.
 */
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const directory = temporaryDirectory();
  cleanups.push(directory.remove);
  const keyFile = join(directory.path, 'encryption.key');
  await writeKeyFile(keyFile, [generateKey()]);
  const store = new EncryptedFileStore({ dir: join(directory.path, 'auths'), keyring: await readKeyFile(keyFile) });
  const state = new MemoryStateBackend();
  cleanups.push(() => state.close());
  const refresher = new CredentialRefresher({ store, state, profileFor: () => undefined });
  const scheduler = new RefreshScheduler({ refresher, leadMsFor: () => 60_000 });
  cleanups.push(() => scheduler.stop());
  const logger = captureLogger();
  const events = createMemorySecurityEvents();
  const sync = new CredentialSync({ store, refresher, scheduler, logger, events, keyFile });
  await sync.prime(new Map());
  const published: Map<string, UpstreamCredential[]>[] = [];
  sync.setListener((byProvider) => published.push(new Map(byProvider)));
  return { store, refresher, sync, logger, events, published, keyFile };
}

const idsOf = (byProvider: ReadonlyMap<string, UpstreamCredential[]> | undefined) => [...(byProvider?.get('claude') ?? [])].map((credential) => credential.id);

describe('CredentialSync', () => {
  it('adds a new file, swaps a re-login in place, removes a deleted one from the pools before wiping its tokens', async () => {
    const { store, refresher, sync, published } = await setup();
    await store.write(oauthRecord('alice'));
    expect(await sync.apply()).toMatchObject({ added: ['alice'], removed: [], updated: [] });
    const alice = sync.byProvider().get('claude')![0]!;
    expect(alice.kind === 'oauth' && alice.accessToken).toBe(oauthRecord('alice').access_token);

    await store.write(oauthRecord('alice', { access_token: 'canary-relogin-access-zzqx', expires_at: 1_950_000_000_000 }));
    expect(await sync.apply()).toMatchObject({ updated: ['alice'] });
    // The same object the pool holds: every holder sees the new token.
    expect(alice.kind === 'oauth' && alice.accessToken).toBe('canary-relogin-access-zzqx');

    let tokenWhenPublished: string | undefined;
    sync.setListener((byProvider) => {
      published.push(new Map(byProvider));
      tokenWhenPublished = alice.kind === 'oauth' ? alice.accessToken : undefined;
    });
    await store.delete('alice');
    expect(await sync.apply()).toMatchObject({ removed: ['alice'] });
    expect(idsOf(published.at(-1))).toEqual([]);
    // The pools lost it while it still had its token; the refresher wiped it only afterwards.
    expect(tokenWhenPublished).toBe('canary-relogin-access-zzqx');
    expect(alice.kind === 'oauth' && alice.accessToken).toBe('');
    expect(refresher.trackedIds()).toEqual([]);
  });

  it('does not swap in a file version while a refresh is running (memory is newer than what was read)', async () => {
    const { store, refresher, sync } = await setup();
    await store.write(oauthRecord('alice'));
    await sync.apply();
    const entry = refresher.entry('alice')!;
    let release: () => void = () => undefined;
    entry.inFlight = new Promise((resolve) => (release = () => resolve(entry.credential)));
    await store.write(oauthRecord('alice', { access_token: 'canary-older-file-zzqx' }));
    expect(await sync.apply()).toMatchObject({ updated: [] });
    expect(entry.credential.accessToken).toBe(oauthRecord('alice').access_token);
    release();
    entry.inFlight = undefined;
    // The file is looked at again on the next pass (its stamp was not taken).
    expect(await sync.apply()).toMatchObject({ updated: ['alice'] });
  });

  it('keeps the running set when the listener refuses the change, and tries again next time', async () => {
    const { store, refresher, sync, logger } = await setup();
    sync.setListener(() => {
      throw new Error('duplicate credential id');
    });
    await store.write(oauthRecord('bob'));
    expect(await sync.apply()).toMatchObject({ added: [] });
    expect(refresher.trackedIds()).toEqual([]);
    expect(logger.lines.some((line) => line.includes('credential change not applied'))).toBe(true);
    sync.setListener(() => undefined);
    expect(await sync.apply()).toMatchObject({ added: ['bob'] });
  });

  it('coalesces calls made while a pass is queued', async () => {
    const { store, sync } = await setup();
    await store.write(oauthRecord('carol'));
    const [first, second] = await Promise.all([sync.apply(), sync.apply()]);
    expect(first).toBe(second);
  });
});

describe('reloadKeyring', () => {
  it('adopts a superset keyring and refuses one that lacks a stored credential\'s key', async () => {
    const { store, keyFile } = await setup();
    await store.write(oauthRecord('alice'));
    const original = store.keyring.keys.map((entry) => ({ ...entry, key: Buffer.from(entry.key) }));
    const added = generateKey();
    await writeKeyFile(keyFile, [...original, added]);
    expect(await reloadKeyring(store, keyFile)).toEqual({ kind: 'replaced', kids: [...original.map((entry) => entry.kid), added.kid] });
    expect(await reloadKeyring(store, keyFile)).toEqual({ kind: 'unchanged' });

    await writeKeyFile(keyFile, [generateKey()]);
    const refused = await reloadKeyring(store, keyFile);
    expect(refused.kind).toBe('refused');
    expect(refused.kind === 'refused' && refused.reason).toMatch(/lacks the key that 1 stored credential/);
    expect((await store.read('alice')).id).toBe('alice'); // the running keyring still reads it
    expect(store.keyring.keys.map((entry) => entry.kid)).toContain(added.kid);
    new Keyring(original, 'key_file').destroy();
  });
});
