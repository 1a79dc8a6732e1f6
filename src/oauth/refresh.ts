import type { CredentialStore, StoredCredentialRecord } from '../credentials/types.js';
import type { SecurityEventSink } from '../credentials/security-events.js';
import type { OAuthProfile } from '../providers/oauth-grant.js';
import type { OAuthCredential, UpstreamCredential } from '../providers/types.js';
import { redactText, registerSecrets } from '../security/redact.js';
import type { StateBackend } from '../state/types.js';
import { coordinateRefresh, type RefreshOutcome } from './refresh-coordination.js';
import { isRefreshFailure, refreshBackoffMs, RefreshFailure } from './refresh-errors.js';
import { createTokenHttpCall, type TokenHttpCall } from './refresh-http.js';
import type { RefreshContext, RefreshLogger, TrackedCredential } from './refresh-types.js';

/**
 * OAuth token refresh, isolated from the request path's failures:
 * - Single-flight: one refresh per credential at a time in this process (`inFlight`), and with the
 *   Redis state backend one across replicas (a lock; the others wait and re-read the store).
 * - Deadline: each refresh ends within `timeoutMs` (30 s): a hung token endpoint becomes a
 *   timeout, a backoff, and a retryable error that makes failover use another credential.
 * - Persist before use: new tokens are written to the (encrypted, atomic) store BEFORE they are
 *   handed out or swapped in memory; when the write fails they are kept aside and written again
 *   before any new token call, so a rotated single-use refresh token is never lost while the
 *   process lives, and never used unpersisted.
 * - Secrecy: tokens go to the redactor on load and on refresh; logs carry ids, providers,
 *   outcomes and durations only. The refresh token is held in a Buffer and zero-filled when
 *   replaced. Honest limit: the access token must be a JS string (headers are strings), and JSON
 *   parsing and the store interface produce strings too; strings are immutable and freed by the GC
 *   whenever it likes, so no code can guarantee they are wiped from memory.
 */
export interface CredentialRefresherOptions {
  store: CredentialStore;
  state: StateBackend;
  /** The OAuth profile of a provider name (config), or undefined when it has none. */
  profileFor: (provider: string) => OAuthProfile | undefined;
  logger?: RefreshLogger;
  /** The audit log: `credential-refresh-start`, `-end` and `-failure` of every refresh this process runs. */
  events?: SecurityEventSink;
  /** Epoch milliseconds. */
  now?: () => number;
  /** Deadline of one refresh, in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** A token closer than this to expiry (milliseconds, default 60 s) is refreshed before a request uses it. */
  requestSkewMs?: number;
  /** While another replica holds the lock: how often (milliseconds) to look at the store besides its message. */
  pollIntervalMs?: number;
  tokenCall?: TokenHttpCall;
}

/** Health of one OAuth credential for status output: no token. */
export interface RefreshStatus {
  id: string;
  provider: string;
  expiresAt: number | undefined;
  unavailableUntil: number | undefined;
  consecutiveFailures: number;
  refreshing: boolean;
}

const noopLogger: RefreshLogger = { info: () => undefined, warn: () => undefined };

export class CredentialRefresher implements RefreshContext {
  readonly store: CredentialStore;
  readonly state: StateBackend;
  readonly profileFor: (provider: string) => OAuthProfile | undefined;
  readonly logger: RefreshLogger;
  private readonly events: SecurityEventSink | undefined;
  readonly now: () => number;
  readonly timeoutMs: number;
  readonly requestSkewMs: number;
  readonly pollIntervalMs: number;
  readonly tokenCall: TokenHttpCall;
  private readonly entries = new Map<string, TrackedCredential>();

  constructor(options: CredentialRefresherOptions) {
    this.store = options.store;
    this.state = options.state;
    this.profileFor = options.profileFor;
    this.logger = options.logger ?? noopLogger;
    this.events = options.events;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.requestSkewMs = options.requestSkewMs ?? 60_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.tokenCall = options.tokenCall ?? createTokenHttpCall();
  }

  /**
   * Starts managing a stored OAuth credential and returns the credential object for the pool.
   * Tracking it again (a reload) refreshes the same object in place.
   */
  track(record: StoredCredentialRecord): OAuthCredential {
    if (record.kind !== 'oauth' || record.access_token === undefined) {
      throw new Error(`Credential '${record.id}' is not an OAuth credential with an access token`);
    }
    registerSecrets([record.access_token, record.refresh_token, record.id_token].filter((token): token is string => token !== undefined));
    const existing = this.entries.get(record.id);
    if (existing !== undefined) {
      this.swap(existing, record);
      return existing.credential;
    }
    const entry: TrackedCredential = {
      id: record.id,
      provider: record.provider,
      credential: { id: record.id, provider: record.provider, priority: record.priority ?? 0, kind: 'oauth', accessToken: record.access_token, expiresAt: record.expires_at },
      refreshToken: record.refresh_token === undefined ? undefined : Buffer.from(record.refresh_token, 'utf8'),
      inFlight: undefined,
      unavailableUntil: 0,
      consecutiveFailures: 0,
      lastFailure: undefined,
      unpersisted: undefined,
    };
    this.entries.set(record.id, entry);
    return entry.credential;
  }

  /** Forgets a credential (GDPR erasure, removal): wipes the refresh token Buffer and the in-memory access token. */
  untrack(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    entry.refreshToken?.fill(0);
    entry.refreshToken = undefined;
    entry.credential.accessToken = '';
    entry.unpersisted = undefined;
    this.entries.delete(id);
  }

  trackedIds(): string[] {
    return [...this.entries.keys()];
  }

  entry(id: string): TrackedCredential | undefined {
    return this.entries.get(id);
  }

  status(): RefreshStatus[] {
    const now = this.now();
    return [...this.entries.values()].map((entry) => ({
      id: entry.id,
      provider: entry.provider,
      expiresAt: entry.credential.expiresAt,
      unavailableUntil: entry.unavailableUntil > now ? entry.unavailableUntil : undefined,
      consecutiveFailures: entry.consecutiveFailures,
      refreshing: entry.inFlight !== undefined,
    }));
  }

  /**
   * Before each upstream attempt: returns the credential ready to use. API keys and untracked
   * credentials pass through. An OAuth token within `requestSkewMs` of expiry is refreshed first
   * (joining a refresh already running); during a backoff after a failed refresh it throws the
   * retryable error at once, without calling the token endpoint.
   */
  async ensureFresh(credential: UpstreamCredential): Promise<UpstreamCredential> {
    if (credential.kind !== 'oauth') return credential;
    const entry = this.entries.get(credential.id);
    if (entry === undefined) return credential;
    const expiresAt = entry.credential.expiresAt;
    if (expiresAt === undefined || expiresAt - this.now() > this.requestSkewMs) return entry.credential;
    this.throwIfBackingOff(entry);
    return this.refresh(entry.id);
  }

  /**
   * After an upstream 401 with `rejectedAccessToken`: one refresh, unless another request already
   * replaced that token (then the current one is returned without a token call).
   */
  async refreshAfterRejection(id: string, rejectedAccessToken: string): Promise<OAuthCredential | undefined> {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.inFlight === undefined && entry.credential.accessToken !== rejectedAccessToken) return entry.credential;
    this.throwIfBackingOff(entry);
    return this.refresh(id);
  }

  /** Refreshes now (scheduler, 401), joining a refresh already running for the credential. */
  refresh(id: string): Promise<OAuthCredential> {
    const entry = this.entries.get(id);
    if (entry === undefined) return Promise.reject(new Error(`Unknown OAuth credential '${id}'`));
    if (entry.inFlight !== undefined) return entry.inFlight;
    const run = this.run(entry).finally(() => {
      entry.inFlight = undefined;
    });
    entry.inFlight = run;
    return run;
  }

  private throwIfBackingOff(entry: TrackedCredential): void {
    if (entry.lastFailure !== undefined && entry.unavailableUntil > this.now()) throw entry.lastFailure.toGatewayError(entry.id, entry.provider);
  }

  private async run(entry: TrackedCredential): Promise<OAuthCredential> {
    const started = this.now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const fields = { event: 'credential-refresh-end', credential_id: entry.id, provider: entry.provider };
    this.logger.info({ event: 'credential-refresh-start', credential_id: entry.id, provider: entry.provider }, 'credential refresh started');
    const audited = { actor: 'refresh', credential_ids: [entry.id], provider: entry.provider };
    this.events?.record({ event_type: 'credential-refresh-start', result: 'success', ...audited });
    try {
      const outcome: RefreshOutcome = await coordinateRefresh(this, entry, controller.signal);
      entry.consecutiveFailures = 0;
      entry.unavailableUntil = 0;
      entry.lastFailure = undefined;
      this.logger.info({ ...fields, outcome, duration_ms: this.now() - started, expires_at: entry.credential.expiresAt }, 'credential refresh ended');
      this.events?.record({ event_type: 'credential-refresh-end', result: 'success', ...audited, detail: `${outcome} in ${this.now() - started} ms` });
      return entry.credential;
    } catch (error) {
      const failure = isRefreshFailure(error)
        ? error
        : new RefreshFailure('upstream_error', redactText(error instanceof Error ? error.message : String(error)));
      entry.consecutiveFailures += 1;
      entry.lastFailure = failure;
      entry.unavailableUntil = this.now() + refreshBackoffMs(failure.kind, entry.consecutiveFailures);
      this.logger.warn(
        { ...fields, outcome: 'failed', failure: failure.kind, code: failure.code, detail: redactText(failure.detail), duration_ms: this.now() - started, unavailable_until: entry.unavailableUntil },
        'credential refresh failed',
      );
      this.events?.record({ event_type: 'credential-refresh-failure', result: 'failure', ...audited, detail: `${failure.kind} (${failure.code}) after ${this.now() - started} ms: ${failure.detail}` });
      throw failure.toGatewayError(entry.id, entry.provider);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Swaps in a record's tokens (already persisted by whoever refreshed). The old refresh token
   * Buffer is zero-filled; the credential object is updated in place.
   */
  swap(entry: TrackedCredential, record: StoredCredentialRecord): void {
    registerSecrets([record.access_token, record.refresh_token, record.id_token].filter((token): token is string => token !== undefined));
    const previous = entry.refreshToken;
    entry.refreshToken = record.refresh_token === undefined ? undefined : Buffer.from(record.refresh_token, 'utf8');
    previous?.fill(0);
    entry.credential.accessToken = record.access_token ?? '';
    entry.credential.expiresAt = record.expires_at;
  }

  /** Whether a stored record holds a token other than ours that is usable for a while: another replica's result. */
  isNewerAndFresh(entry: TrackedCredential, record: StoredCredentialRecord): boolean {
    if (record.access_token === undefined || record.access_token === entry.credential.accessToken) return false;
    return record.expires_at === undefined || record.expires_at - this.now() > this.requestSkewMs;
  }
}
