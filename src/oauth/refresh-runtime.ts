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

export interface OAuthRuntimeOptions {
  /** The current config; a getter so a hot reload's `providers.<name>.oauth` changes apply to the next refresh. */
  config: () => ReadonlyConfig;
  /** The encrypted store (part A's EncryptedFileStore in the server). */
  store: CredentialStore;
  logger: RefreshLogger;
  now?: () => number;
  /**
   * The shared state backend (locks and announcements across replicas). Created once by the
   * composition root (src/main.ts), which also closes it: limiters and alerts will share it.
   */
  state: StateBackend;
}

/** What the composition root keeps for the life of the process (the refresher survives reloads). */
export interface OAuthRuntime {
  readonly refresher: CredentialRefresher;
  readonly scheduler: RefreshScheduler;
  /** Stored credentials by provider name, to add to each provider's CredentialPool. */
  readonly credentialsByProvider: ReadonlyMap<string, UpstreamCredential[]>;
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
  const refresher = new CredentialRefresher({ store: options.store, state, profileFor, logger: options.logger, ...(options.now === undefined ? {} : { now: options.now }) });
  const credentialsByProvider = await loadStoredCredentials(options.store, refresher, options.logger);
  const scheduler = new RefreshScheduler({ refresher, leadMsFor: (provider) => profileFor(provider)?.refreshLeadMs ?? fallbackLeadMs });
  scheduler.start();
  return {
    refresher,
    scheduler,
    credentialsByProvider,
    close: () => {
      scheduler.stop();
      return Promise.resolve();
    },
  };
}
