import type { CredentialStore, StoredCredentialRecord } from '../credentials/types.js';
import type { OAuthProfile } from '../providers/oauth-grant.js';
import type { OAuthCredential } from '../providers/types.js';
import type { StateBackend } from '../state/types.js';
import type { RefreshFailure } from './refresh-errors.js';
import type { TokenHttpCall } from './refresh-http.js';

/**
 * The types the refresher (refresh.ts) and the cross-replica coordination (refresh-coordination.ts)
 * share. They live here so that the coordination depends on what it uses, not on the refresher
 * class: refresh.ts imports the coordination, and nothing imports back (no import cycle).
 */
export interface RefreshLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface TrackedCredential {
  readonly id: string;
  readonly provider: string;
  /** The one object the pool and adapters see; refreshed in place so every holder sees the new token. */
  readonly credential: OAuthCredential;
  refreshToken: Buffer | undefined;
  inFlight: Promise<OAuthCredential> | undefined;
  /** Epoch milliseconds until which requests fail fast instead of calling the token endpoint. */
  unavailableUntil: number;
  consecutiveFailures: number;
  lastFailure: RefreshFailure | undefined;
  /** New tokens whose store write failed: written again (under the lock) before any new token call. */
  unpersisted: StoredCredentialRecord | undefined;
}

/** What one refresh run needs from its refresher: settings, the store, the state backend and the swap. */
export interface RefreshContext {
  readonly store: CredentialStore;
  readonly state: StateBackend;
  readonly profileFor: (provider: string) => OAuthProfile | undefined;
  readonly now: () => number;
  /** Deadline of one refresh, in milliseconds. */
  readonly timeoutMs: number;
  /** While another replica holds the lock: how often (milliseconds) to look at the store besides its message. */
  readonly pollIntervalMs: number;
  readonly tokenCall: TokenHttpCall;
  /** Swaps in a record's tokens (already persisted); the old refresh token Buffer is zero-filled. */
  swap(entry: TrackedCredential, record: StoredCredentialRecord): void;
  /** Whether a stored record holds a token other than ours that is usable for a while: another replica's result. */
  isNewerAndFresh(entry: TrackedCredential, record: StoredCredentialRecord): boolean;
}
