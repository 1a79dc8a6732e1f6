import { chmodSync, chownSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/helpers/rejection.js';
import { makeFifoWithWatchdog, stopFifoWatchdogs } from '../../test/helpers/fifo.js';
import { repairSeam } from '../files/secret-path-check.js';
import { createClientKey } from '../security/client-keys.js';
import { oauthRecord, temporaryDirectory, writeTestConfig } from './__fixtures__/test-support.js';
import { createMemorySecurityEvents } from './security-events.js';
import { CredentialStartupError, prepareCredentialStore } from './startup-checks.js';

/**
 * The start-time checks against another local user: a path swapped while --fix-permissions repairs
 * it, a client key file that is not ours, a FIFO planted in auth.dir.
 */
let directory: { path: string; remove: () => void };
beforeEach(() => {
  directory = temporaryDirectory();
});
afterEach(() => {
  repairSeam.beforeRepair = () => Promise.resolve();
  stopFifoWatchdogs();
  directory.remove();
});

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const otherUid = 65534;
const modeOf = (path: string) => statSync(path).mode & 0o777;

const refusal = (promise: Promise<unknown>) => rejectionOf(promise, CredentialStartupError);

async function seeded(): Promise<{ authDir: string; loaded: ReturnType<typeof writeTestConfig>['loaded'] }> {
  const { loaded } = writeTestConfig(directory.path);
  const prepared = await prepareCredentialStore(loaded, { env: {}, events: createMemorySecurityEvents() });
  await prepared.store.write(oauthRecord('alice'));
  return { authDir: join(directory.path, 'auths'), loaded };
}

describe('--fix-permissions against a swap between check and repair', () => {
  it('a symlink swapped in for a 0644 credential file: refused, the file it points to keeps its mode, a failure event', async () => {
    const { authDir, loaded } = await seeded();
    const file = join(authDir, 'alice.json');
    chmodSync(file, 0o644);
    const outside = join(directory.path, 'outside.txt');
    writeFileSync(outside, 'someone else', { mode: 0o644 });
    chmodSync(outside, 0o644);
    // The seam runs in the window an attacker races: after the check, before the repair.
    repairSeam.beforeRepair = (path) => {
      if (path === file) {
        rmSync(file);
        symlinkSync(outside, file);
      }
      return Promise.resolve();
    };
    const events = createMemorySecurityEvents();
    const error = await refusal(prepareCredentialStore(loaded, { env: {}, fixPermissions: true, events }));
    expect(modeOf(outside)).toBe(0o644);
    expect(error.problems.join('\n')).toContain(`${file}: is a symlink pointing out of ${authDir}`);
    expect(events.events).toEqual([expect.objectContaining({ event_type: 'credential-permissions-fix', result: 'failure', detail: expect.stringContaining(`${file}: chmod 600 ${file}`) })]);
  });
});

describe('the client key file at start', () => {
  it('a client key file readable by others, or a symlink, refuses the start; --fix-permissions repairs the mode', async () => {
    const { loaded } = await seeded();
    const keysFile = loaded.config.auth.client_keys_file;
    createClientKey(loaded, 'alice');
    chmodSync(keysFile, 0o644);
    const error = await refusal(prepareCredentialStore(loaded, { env: {} }));
    expect(error.problems).toEqual([`${keysFile}: mode 0644 lets group or others read it; fix: chmod 600 ${keysFile} (or start with --fix-permissions to repair modes)`]);
    await prepareCredentialStore(loaded, { env: {}, fixPermissions: true, events: createMemorySecurityEvents() });
    expect(modeOf(keysFile)).toBe(0o600);

    rmSync(keysFile);
    const elsewhere = join(directory.path, 'auths', 'alice.json');
    symlinkSync(elsewhere, keysFile);
    const symlinked = await refusal(prepareCredentialStore(loaded, { env: {}, fixPermissions: true }));
    expect(symlinked.problems.join('\n')).toContain(`${keysFile}: is a symlink`);
  });

  it('a client key file directory others can write refuses the start (they could rename a file over it)', async () => {
    const { loaded } = await seeded();
    createClientKey(loaded, 'alice');
    chmodSync(directory.path, 0o777);
    const error = await refusal(prepareCredentialStore(loaded, { env: {} }));
    expect(error.problems.join('\n')).toContain(`${directory.path}: mode 0777 lets group or others replace the files in it; fix: chmod go-w ${directory.path}`);
  });

  it.skipIf(!isRoot)('as root: a client key file owned by another uid refuses the start; --fix-permissions gives it back', async () => {
    const { loaded } = await seeded();
    const keysFile = loaded.config.auth.client_keys_file;
    createClientKey(loaded, 'alice');
    chownSync(keysFile, otherUid, otherUid);
    const error = await refusal(prepareCredentialStore(loaded, { env: {} }));
    expect(error.problems.join('\n')).toContain(`${keysFile}: is owned by uid ${otherUid}, not by the proxy's uid 0; fix: chown 0 ${keysFile}`);
    await prepareCredentialStore(loaded, { env: {}, fixPermissions: true, events: createMemorySecurityEvents() });
    expect(statSync(keysFile).uid).toBe(0);
  });
});

describe('a FIFO in auth.dir', () => {
  it('is reported as not a regular file and the store serves the others, without waiting for a writer', { timeout: 10_000 }, async () => {
    const { authDir, loaded } = await seeded();
    makeFifoWithWatchdog(join(authDir, 'x.json'));
    const prepared = await prepareCredentialStore(loaded, { env: {}, events: createMemorySecurityEvents() });
    expect(prepared.warnings.join('\n')).toContain(`${join(authDir, 'x.json')}: is not a regular file (a pipe); the proxy serves with its other credentials`);
    expect((await prepared.store.list()).map((entry) => entry.id)).toEqual(['alice']);
  });
});
