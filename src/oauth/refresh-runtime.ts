import type { ReadonlyConfig } from '../config/schema.js';
import type { OAuthProfile } from '../providers/oauth-grant.js';
import { oauthProfileFor } from '../providers/oauth-profiles.js';
import type { UpstreamCredential } from '../providers/types.js';
import { registerSecrets } from '../security/redact.js';
import type { StateBackend } from '../state/types.js';
import { CredentialRefresher } from './refresh.js';
import type { RefreshLogger } from './refresh-types.js';
import { loadStoredCredentials } from './refresh-load.js';
import { RefreshScheduler } from './refresh-scheduler.js';
import type { CredentialStore } from '../credentials/types.js';
import type { EncryptedFileStore } from '../credentials/file-store.js';
import { createStderrSecurityEvents, type SecurityEventSink } from '../credentials/security-events.js';
import { CredentialSync } from './credential-sync.js';

export interface OAuthRuntimeOptions {
  /** The current config; a getter so a hot reload's `providers.<name>.oauth` changes apply to the next refresh. */
  config: () => ReadonlyConfig;
  /** The encrypted store (part A's EncryptedFileStore in the server). */
  store: CredentialStore;
  logger: RefreshLogger;
  /** The audit log, for the refresher's start/end/failure records. */
  events?: SecurityEventSink;
  now?: () => number;
  /**
   * The shared state backend (locks and announcements across replicas). Created once by the
   * composition root (src/main.ts), which also closes it: limiters and alerts will share it.
   */
  state: StateBackend;
  /**
   * Live credential changes (credential-sync.ts): the encrypted store whose files a running server
   * follows, and the key file to re-read when the keyring comes from it. Without it (encryption
   * off) the set loaded at start is final.
   */
  live?: { store: EncryptedFileStore; keyFile?: string; events?: SecurityEventSink };
}

/** What the composition root keeps for the life of the process (the refresher survives reloads). */
export interface OAuthRuntime {
  readonly refresher: CredentialRefresher;
  readonly scheduler: RefreshScheduler;
  /** Stored credentials by provider name, to add to each provider's CredentialPool (the running set: it follows live changes). */
  readonly credentialsByProvider: ReadonlyMap<string, UpstreamCredential[]>;
  /** Applies changes of auth.dir and the key file; undefined when the store is not the encrypted one. */
  readonly sync: CredentialSync | undefined;
  /** Stops the background scheduler. The state backend is its creator's to close. */
  close(): Promise<void>;
}

/** Fallback lead (5 min) for a stored credential whose provider is no longer configured. */
const fallbackLeadMs = 5 * 60_000;

/**
 * Composition for the server: refresher (on the given state backend), stored credentials, background scheduler.
 * OAuth client secrets from config are registered with the redactor here, like upstream keys.
 */
export async function startOAuthRuntime(options: OAuthRuntimeOptions): Promise<OAuthRuntime> {
  const state = options.state;
  const profileFor = (provider: string): OAuthProfile | undefined => {
    const providerConfig = options.config().providers[provider];
    if (providerConfig === undefined) return undefined;
    if (providerConfig.oauth?.client_secret !== undefined) registerSecrets([providerConfig.oauth.client_secret]);
    return oauthProfileFor(providerConfig);
  };
  for (const name of Object.keys(options.config().providers)) profileFor(name);
  const refresher = new CredentialRefresher({ store: options.store, state, profileFor, logger: options.logger, ...(options.events === undefined ? {} : { events: options.events }), ...(options.now === undefined ? {} : { now: options.now }) });
  const loaded = await loadStoredCredentials(options.store, refresher, options.logger);
  const scheduler = new RefreshScheduler({ refresher, leadMsFor: (provider) => profileFor(provider)?.refreshLeadMs ?? fallbackLeadMs });
  scheduler.start();
  const live = options.live;
  const sync =
    live === undefined
      ? undefined
      : new CredentialSync({
          store: live.store,
          refresher,
          scheduler,
          logger: options.logger,
          events: live.events ?? options.events ?? createStderrSecurityEvents(),
          ...(live.keyFile === undefined ? {} : { keyFile: live.keyFile }),
        });
  await sync?.prime(loaded);
  return {
    refresher,
    scheduler,
    get credentialsByProvider() {
      return sync === undefined ? loaded : sync.byProvider();
    },
    sync,
    close: () => {
      scheduler.stop();
      return Promise.resolve();
    },
  };
}
