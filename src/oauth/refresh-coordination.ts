import type { StoredCredentialRecord } from '../credentials/types.js';
import { buildRefreshRequest, isTokenGrant, parseTokenResponse } from '../providers/oauth-grant.js';
import { registerSecrets } from '../security/redact.js';
import { isRefreshFailure, raceDeadline, RefreshFailure } from './refresh-errors.js';
import { TokenCallAbortedError } from './refresh-http.js';
import type { RefreshContext, TrackedCredential } from './refresh-types.js';

/** `refreshed`: this process called the token endpoint; `adopted`: another replica did, we re-read the store. */
export type RefreshOutcome = 'refreshed' | 'adopted';

/** Message on the credential's channel when a refresh ends. Never holds a token: others re-read the encrypted store. */
interface RefreshMessage {
  outcome: 'refreshed' | 'failed';
}

/** The lock outlives the refresh deadline by this much (milliseconds), so it cannot expire under a live holder. */
const lockMarginMs = 5_000;

/**
 * One refresh across replicas. Takes the credential's lock; the holder re-reads the store (a
 * replica may have refreshed a moment ago), calls the token endpoint, persists, then announces.
 * A replica that finds the lock taken waits for the announcement (or a poll tick, which also
 * covers a holder that died: its lock expires and the next tick takes it) and re-reads the store.
 * With the memory backend the same code runs and the lock only spans this process.
 */
export async function coordinateRefresh(refresher: RefreshContext, entry: TrackedCredential, signal: AbortSignal): Promise<RefreshOutcome> {
  const name = `refresh:${entry.id}`;
  let announced: RefreshMessage | undefined;
  let wake: (() => void) | undefined;
  const unsubscribe = await raceDeadline(
    refresher.state.subscribe(name, (text) => {
      announced = parseMessage(text);
      wake?.();
    }),
    signal,
    'subscribing to refresh results',
  );
  try {
    for (;;) {
      const lease = await raceDeadline(refresher.state.tryLock(name, refresher.timeoutMs + lockMarginMs), signal, 'taking the refresh lock');
      if (lease !== undefined) {
        try {
          const outcome = await refreshUnderLock(refresher, entry, signal);
          await announce(refresher, name, { outcome: 'refreshed' });
          return outcome;
        } catch (error) {
          await announce(refresher, name, { outcome: 'failed' });
          throw error;
        } finally {
          await refresher.state.unlock(lease).catch(() => false);
        }
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, refresher.pollIntervalMs);
        signal.addEventListener('abort', done, { once: true });
        wake = done;
        if (announced !== undefined || signal.aborted) done();
      });
      if (signal.aborted) throw new RefreshFailure('timeout', `no refresh result within ${refresher.timeoutMs} ms (another replica holds the lock)`);
      const record = await raceDeadline(refresher.store.read(entry.id), signal, 'reading the credential');
      if (refresher.isNewerAndFresh(entry, record)) {
        refresher.swap(entry, record);
        return 'adopted';
      }
      // The holder failed: do not hammer the token endpoint from every replica; back off like it did.
      if (announced?.outcome === 'failed') throw new RefreshFailure('upstream_error', 'the refresh by another replica failed');
      announced = undefined;
    }
  } finally {
    await unsubscribe().catch(() => undefined);
  }
}

async function refreshUnderLock(refresher: RefreshContext, entry: TrackedCredential, signal: AbortSignal): Promise<RefreshOutcome> {
  if (entry.unpersisted !== undefined) {
    await persist(refresher, entry, entry.unpersisted, signal);
    return 'refreshed';
  }
  const record = await raceDeadline(refresher.store.read(entry.id), signal, 'reading the credential');
  if (refresher.isNewerAndFresh(entry, record)) {
    refresher.swap(entry, record);
    return 'adopted';
  }
  // The stored refresh token is the newest one (another replica may have rotated it); ours is the fallback.
  const refreshToken = record.refresh_token ?? entry.refreshToken?.toString('utf8');
  if (refreshToken === undefined) throw new RefreshFailure('misconfigured', 'the credential has no refresh token; log in again and re-import it');
  const profile = refresher.profileFor(entry.provider);
  if (profile === undefined) throw new RefreshFailure('misconfigured', `provider '${entry.provider}' is not configured`);
  if (profile.id === 'google' && profile.clientSecret === undefined) {
    throw new RefreshFailure('misconfigured', `providers.${entry.provider}.oauth.client_secret is not set (Google's token endpoint requires the client secret)`);
  }

  let response;
  try {
    response = await refresher.tokenCall(buildRefreshRequest(profile, refreshToken), signal);
  } catch (error) {
    if (error instanceof TokenCallAbortedError || signal.aborted) throw new RefreshFailure('timeout', `the token endpoint did not answer within ${refresher.timeoutMs} ms`);
    throw new RefreshFailure('unreachable', error instanceof Error ? error.message : 'token endpoint unreachable');
  }
  const parsed = parseTokenResponse(response.status, response.bodyText, refresher.now());
  if (!isTokenGrant(parsed)) {
    const reason = parsed.oauthError === undefined ? '' : ` (${parsed.oauthError})`;
    throw new RefreshFailure(parsed.permanent ? 'rejected' : 'upstream_error', `the token endpoint answered ${parsed.status}${reason}`);
  }
  registerSecrets([parsed.accessToken, parsed.refreshToken, parsed.idToken].filter((token): token is string => token !== undefined));
  const updated: StoredCredentialRecord = {
    ...record,
    access_token: parsed.accessToken,
    refresh_token: parsed.refreshToken ?? record.refresh_token,
    id_token: parsed.idToken ?? record.id_token,
    expires_at: parsed.expiresAt,
    updated_at: new Date(refresher.now()).toISOString(),
  };
  if (updated.expires_at === undefined) delete updated.expires_at;
  if (updated.id_token === undefined) delete updated.id_token;
  if (updated.refresh_token === undefined) delete updated.refresh_token;
  // From here the new refresh token may be the only valid one: keep it before anything can fail.
  entry.unpersisted = updated;
  await persist(refresher, entry, updated, signal);
  return 'refreshed';
}

/** Writes first, swaps second: the token is handed out only once the store holds it. */
async function persist(refresher: RefreshContext, entry: TrackedCredential, record: StoredCredentialRecord, signal: AbortSignal): Promise<void> {
  try {
    await raceDeadline(refresher.store.write(record), signal, 'persisting the new tokens');
  } catch (error) {
    if (isRefreshFailure(error)) throw error;
    throw new RefreshFailure('not_persisted', 'the new tokens could not be written to the credential store; they are kept in memory and written again before the next refresh');
  }
  entry.unpersisted = undefined;
  refresher.swap(entry, record);
}

async function announce(refresher: RefreshContext, name: string, message: RefreshMessage): Promise<void> {
  // Best effort: waiting replicas also poll the store, so a lost message costs a poll interval.
  await refresher.state.publish(name, JSON.stringify(message)).catch(() => undefined);
}

function parseMessage(text: string): RefreshMessage | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && 'outcome' in value) {
      const outcome = (value).outcome;
      if (outcome === 'refreshed' || outcome === 'failed') return { outcome };
    }
  } catch {
    // A foreign or corrupt message is ignored; the poll still notices the result.
  }
  return undefined;
}
