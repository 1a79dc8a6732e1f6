import type { EncryptedFileStore } from '../credentials/file-store.js';
import { wipeRecord } from '../credentials/file-store.js';
import { credentialDirectoryProblems, credentialFileProblems, credentialFileStamp, reloadKeyring } from '../credentials/live-checks.js';
import type { SecurityEventSink } from '../credentials/security-events.js';
import type { StoredCredentialRecord } from '../credentials/types.js';
import type { UpstreamCredential } from '../providers/types.js';
import { redactText, registerSecrets } from '../security/redact.js';
import type { CredentialRefresher } from './refresh.js';
import type { RefreshLogger } from './refresh-types.js';
import type { RefreshScheduler } from './refresh-scheduler.js';

/**
 * Live credential changes: brings the running set of stored credentials in line with auth.dir and
 * the key file, without a restart. New files join (OAuth ones tracked by the refresher and
 * scheduled), deleted ones leave the pools first and the refresher second (their tokens wiped),
 * a re-login or another process's refresh swaps the new tokens into the one shared credential
 * object, a rotated keyring is re-read. Fail closed, as at start: a file that is a symlink, readable
 * by others, not ours, in clear, renamed, moved to another provider or encrypted under an unknown
 * key is refused with a log line, and whatever was serving keeps serving.
 *
 * Passes run one at a time (a call during a pass queues one more), and a pass reads only files
 * whose stamp (inode, size, ctime, mode) moved, so the refresher's own writes cost one read each.
 */
export interface CredentialChange {
  added: string[];
  removed: string[];
  updated: string[];
  refused: { id: string; reason: string }[];
  keyring: 'unchanged' | 'replaced' | 'refused';
}

export interface CredentialSyncOptions {
  store: EncryptedFileStore;
  refresher: CredentialRefresher;
  scheduler: RefreshScheduler;
  logger: RefreshLogger;
  events: SecurityEventSink;
  /** The key file to re-read, when the keyring comes from it. */
  keyFile?: string;
}

/**
 * Receives the new stored credentials by provider and swaps them into the request path (main.ts
 * rebuilds the runtime). A throw keeps the running set: the pass is not committed and is retried
 * on the next change.
 */
export type CredentialSetListener = (byProvider: ReadonlyMap<string, UpstreamCredential[]>) => void;

interface KnownCredential {
  credential: UpstreamCredential;
  /** The file version it was read from; undefined forces a re-read. */
  stamp: string | undefined;
}

export class CredentialSync {
  private readonly options: CredentialSyncOptions;
  private known = new Map<string, KnownCredential>();
  /** Stamps of file versions already refused (or skipped at start): logged once, not on every pass. */
  private readonly refusedStamps = new Map<string, string>();
  private lastKeyringRefusal: string | undefined;
  private lastDirectoryRefusal: string | undefined;
  private listener: CredentialSetListener | undefined;
  private pending: Promise<CredentialChange> | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: CredentialSyncOptions) {
    this.options = options;
  }

  /**
   * Takes over the set loaded at start (refresh-load.ts) and the stamp of every file now, so the
   * first pass re-reads nothing that did not change, and files skipped at start (already logged)
   * are not logged again until they change.
   */
  async prime(loaded: ReadonlyMap<string, readonly UpstreamCredential[]>): Promise<void> {
    const { store } = this.options;
    for (const credentials of loaded.values()) {
      for (const credential of credentials) this.known.set(credential.id, { credential, stamp: await credentialFileStamp(store.fileFor(credential.id)) });
    }
    for (const id of await store.fileIds()) {
      const stamp = await credentialFileStamp(store.fileFor(id));
      if (!this.known.has(id) && stamp !== undefined) this.refusedStamps.set(id, stamp);
    }
  }

  setListener(listener: CredentialSetListener): void {
    this.listener = listener;
  }

  /** The running stored credentials by provider name, in id order. */
  byProvider(): Map<string, UpstreamCredential[]> {
    return groupByProvider(this.known);
  }

  /** Applies what changed on disk now; the management API calls it after each write or delete. */
  apply(): Promise<CredentialChange> {
    if (this.pending !== undefined) return this.pending;
    const next = this.tail.then(() => {
      this.pending = undefined;
      return this.pass();
    });
    this.pending = next;
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async pass(): Promise<CredentialChange> {
    const { store, refresher, logger } = this.options;
    const change: CredentialChange = { added: [], removed: [], updated: [], refused: [], keyring: 'unchanged' };
    const forceReread = await this.followKeyring(change);

    const directoryProblems = await credentialDirectoryProblems(store);
    if (directoryProblems.length > 0) {
      const reason = directoryProblems.join('; ');
      if (reason !== this.lastDirectoryRefusal) {
        this.lastDirectoryRefusal = reason;
        logger.warn({ event: 'credential-reload-refused', detail: redactText(reason) }, 'auth.dir is no longer safe; no credential change is applied, the running credentials keep serving');
      }
      return change;
    }
    this.lastDirectoryRefusal = undefined;

    const next = new Map(this.known);
    const ids = new Set(await store.fileIds());
    for (const id of this.known.keys()) {
      if (!ids.has(id)) {
        next.delete(id);
        change.removed.push(id);
      }
    }
    for (const id of this.refusedStamps.keys()) if (!ids.has(id)) this.refusedStamps.delete(id);
    const tracked: string[] = [];
    for (const id of ids) {
      const known = next.get(id);
      const stamp = await credentialFileStamp(store.fileFor(id));
      if (stamp === undefined) continue; // deleted between the listing and now: the next pass removes it
      if (!forceReread && known?.stamp === stamp) continue;
      if (!forceReread && this.refusedStamps.get(id) === stamp) continue;
      const problems = await credentialFileProblems(store, id);
      if (problems.length > 0) {
        this.refuse(change, id, stamp, problems.join('; '));
        continue;
      }
      // What the refresher holds before the read: if it moves while we read, a refresh (which
      // writes the file first) is newer than what we read, and this version is not swapped in.
      const before = known?.credential.kind === 'oauth' ? known.credential.accessToken : undefined;
      let record: StoredCredentialRecord;
      try {
        record = await store.read(id);
      } catch (error) {
        this.refuse(change, id, stamp, error instanceof Error ? error.message : String(error));
        continue;
      }
      this.refusedStamps.delete(id);
      try {
        const outcome = this.adopt(next, known, record, stamp, before);
        if (outcome === 'added') {
          change.added.push(id);
          if (record.kind === 'oauth') tracked.push(id);
        } else if (outcome === 'updated') change.updated.push(id);
      } catch (error) {
        this.refuse(change, id, stamp, error instanceof Error ? error.message : String(error));
      } finally {
        wipeRecord(record);
      }
    }

    if (change.added.length + change.removed.length > 0 || change.updated.some((id) => next.get(id)?.credential !== this.known.get(id)?.credential)) {
      try {
        this.listener?.(groupByProvider(next));
      } catch (error) {
        for (const id of tracked) if (!this.known.has(id)) refresher.untrack(id);
        logger.warn({ event: 'credential-reload-refused', detail: redactText(error instanceof Error ? error.message : String(error)) }, 'credential change not applied; the running credentials keep serving');
        return { ...change, added: [], removed: [], updated: [] };
      }
    }
    // The request path no longer sees removed credentials: now their tokens can be wiped.
    for (const id of change.removed) {
      const gone = this.known.get(id);
      if (gone?.credential.kind === 'oauth') refresher.untrack(id);
      this.options.scheduler.forget(id);
    }
    this.known = next;
    this.options.scheduler.start();
    for (const id of change.updated) this.options.scheduler.rearm(id);
    this.report(change);
    return change;
  }

  /** Puts one read record into `next`; returns what it was for the running set. */
  private adopt(next: Map<string, KnownCredential>, known: KnownCredential | undefined, record: StoredCredentialRecord, stamp: string, before: string | undefined): 'added' | 'updated' | 'same' | 'skipped' {
    const { refresher } = this.options;
    const sameShape = known !== undefined && known.credential.provider === record.provider && known.credential.kind === record.kind;
    if (record.kind === 'oauth') {
      if (sameShape) {
        const entry = refresher.entry(record.id);
        // A refresh running or just done, or tokens not yet persisted: memory is newer than the file.
        if (entry === undefined || entry.inFlight !== undefined || entry.unpersisted !== undefined || entry.credential.accessToken !== before) return 'skipped';
        const changed = entry.credential.accessToken !== record.access_token || entry.refreshToken?.toString('utf8') !== record.refresh_token || entry.credential.expiresAt !== record.expires_at;
        if (changed) refresher.track(record); // swaps the tokens into the shared object in place
        next.set(record.id, { credential: entry.credential, stamp });
        return changed ? 'updated' : 'same';
      }
      if (known?.credential.kind === 'oauth') refresher.untrack(record.id);
      next.set(record.id, { credential: refresher.track(record), stamp });
      return known === undefined ? 'added' : 'updated';
    }
    if (record.api_key === undefined) throw new Error(`${this.options.store.fileFor(record.id)}: an api_key credential without a key`);
    registerSecrets([record.api_key]);
    if (sameShape && known.credential.kind === 'api_key') {
      const changed = known.credential.apiKey !== record.api_key;
      known.credential.apiKey = record.api_key;
      next.set(record.id, { credential: known.credential, stamp });
      return changed ? 'updated' : 'same';
    }
    if (known?.credential.kind === 'oauth') refresher.untrack(record.id);
    next.set(record.id, { credential: { id: record.id, provider: record.provider, priority: record.priority ?? 0, kind: 'api_key', apiKey: record.api_key }, stamp });
    return known === undefined ? 'added' : 'updated';
  }

  /** Re-reads the key file; true when the keyring changed (every file is then read again). */
  private async followKeyring(change: CredentialChange): Promise<boolean> {
    if (this.options.keyFile === undefined) return false;
    const outcome = await reloadKeyring(this.options.store, this.options.keyFile);
    if (outcome.kind === 'replaced') {
      this.lastKeyringRefusal = undefined;
      change.keyring = 'replaced';
      this.refusedStamps.clear();
      this.options.logger.info({ event: 'encryption-keyring-reload', kids: outcome.kids }, 'encryption keyring re-read from the key file');
      this.options.events.record({ event_type: 'encryption-keyring-reload', result: 'success', actor: 'serve', detail: `kids ${outcome.kids.join(', ')}` });
      return true;
    }
    if (outcome.kind === 'refused') {
      change.keyring = 'refused';
      if (outcome.reason !== this.lastKeyringRefusal) {
        this.lastKeyringRefusal = outcome.reason;
        this.options.logger.warn({ event: 'encryption-keyring-reload', outcome: 'refused', detail: redactText(outcome.reason) }, 'key file change refused; the running keyring stays');
        this.options.events.record({ event_type: 'encryption-keyring-reload', result: 'failure', actor: 'serve', detail: outcome.reason });
      }
      return false;
    }
    this.lastKeyringRefusal = undefined;
    return false;
  }

  private refuse(change: CredentialChange, id: string, stamp: string, reason: string): void {
    this.refusedStamps.set(id, stamp);
    const detail = redactText(reason);
    change.refused.push({ id, reason: detail });
    const running = this.known.has(id);
    this.options.logger.warn(
      { event: 'credential-reload-refused', credential_id: id, detail },
      running ? 'changed credential file refused; the running credential keeps serving' : 'new credential file refused',
    );
  }

  private report(change: CredentialChange): void {
    const { added, removed, updated, refused } = change;
    if (added.length + removed.length + updated.length > 0) {
      this.options.logger.info({ event: 'credential-reload', added, removed, updated }, 'stored credentials reloaded');
      this.options.events.record({ event_type: 'credential-reload', result: 'success', actor: 'serve', credential_ids: [...added, ...removed, ...updated], detail: `added ${added.length}, removed ${removed.length}, updated ${updated.length}` });
    }
    if (refused.length > 0) {
      this.options.events.record({ event_type: 'credential-reload', result: 'failure', actor: 'serve', credential_ids: refused.map((entry) => entry.id), detail: refused.map((entry) => entry.reason).join('; ') });
    }
  }
}

function groupByProvider(known: ReadonlyMap<string, KnownCredential>): Map<string, UpstreamCredential[]> {
  const byProvider = new Map<string, UpstreamCredential[]>();
  for (const id of [...known.keys()].sort()) {
    const credential = known.get(id)!.credential;
    const list = byProvider.get(credential.provider) ?? [];
    list.push(credential);
    byProvider.set(credential.provider, list);
  }
  return byProvider;
}
