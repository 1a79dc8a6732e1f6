import type { ReadonlyConfig } from '../config/schema.js';
import type { OAuthProfile } from '../providers/oauth-grant.js';
import { oauthProfileFor } from '../providers/oauth-profiles.js';
import type { UpstreamCredential } from '../providers/types.js';
import { registerSecrets } from '../security/redact.js';
import { createStateBackend } from '../state/create-state-backend.js';
import type { StateBackend } from '../state/types.js';
import { CredentialRefresher, type RefreshLogger } from './refresh.js';
import { loadStoredCredentials } from './refresh-load.js';
import { RefreshScheduler } from './refresh-scheduler.js';
import type { CredentialStore } from './types.js';

export interface OAuthRuntimeOptions {
  /** The current config; a getter so a hot reload's `providers.<name>.oauth` changes apply to the next refresh. */
  config: () => ReadonlyConfig;
  /** The encrypted store (part A's EncryptedFileStore in the server). */
  store: CredentialStore;
  logger: RefreshLogger;
  now?: () => number;
  /** Defaults to the backend `state:` in config asks for. */
  state?: StateBackend;
}

/** What the composition root keeps for the life of the process (refresher and state survive reloads). */
export interface OAuthRuntime {
  readonly refresher: CredentialRefresher;
  readonly scheduler: RefreshScheduler;
  readonly state: StateBackend;
  /** Stored credentials by provider name, to add to each provider's CredentialPool. */
  readonly credentialsByProvider: ReadonlyMap<string, UpstreamCredential[]>;
  close(): Promise<void>;
}

/** Fallback lead (5 min) for a stored credential whose provider is no longer configured. */
const fallbackLeadMs = 5 * 60_000;

/**
 * Composition for the server: state backend, refresher, stored credentials, background scheduler.
 * OAuth client secrets from config are registered with the redactor here, like upstream keys.
 */
export async function startOAuthRuntime(options: OAuthRuntimeOptions): Promise<OAuthRuntime> {
  const state = options.state ?? createStateBackend(options.config().state);
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
    state,
    credentialsByProvider,
    close: async () => {
      scheduler.stop();
      await state.close();
    },
  };
}
