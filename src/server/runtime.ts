import type { LoadedConfig } from '../config/load.js';
import type { ReadonlyProviderConfig } from '../config/schema.js';
import { adapterFor } from '../providers/registry.js';
import type { ProviderAdapter, UpstreamCredential } from '../providers/types.js';
import { CredentialPool, credentialsFromConfig } from '../routing/credential-pool.js';
import { createModelRouter } from '../routing/model-router.js';
import { collectClientKeys, createClientKeyAuthenticator, type ClientKeyAuthenticator } from '../security/client-keys.js';
import type { KeyAuthenticator } from '../security/key-authenticator.js';
import { createManagementAuthenticator } from '../security/management-keys.js';
import { registerSecrets } from '../security/redact.js';
import { createClientIpResolver, type ClientIpResolver } from '../net/client-ip.js';
import { compileIpFilter, type BanCheck, type IpFilter } from '../net/ip-filter.js';

export interface ProviderRuntime {
  readonly name: string;
  readonly config: ReadonlyProviderConfig;
  readonly adapter: ProviderAdapter;
  readonly baseUrl: URL;
  readonly pool: CredentialPool;
}

/**
 * Everything the request path needs, compiled once from a loaded config: the request path does
 * no parsing of config. A hot reload builds a new Runtime and swaps it in whole, so a request
 * sees either the old config or the new one, never a mix.
 */
export interface Runtime {
  readonly loaded: LoadedConfig;
  /** The client API scope's authenticator (client keys). */
  readonly authenticator: ClientKeyAuthenticator;
  /** The management scope's authenticator (management keys only; refuses everything while management is disabled). */
  readonly managementAuthenticator: KeyAuthenticator;
  readonly router: ReturnType<typeof createModelRouter>;
  readonly providers: ReadonlyMap<string, ProviderRuntime>;
  /** Client IP resolution and the IP filter, compiled from `server.trusted_proxies` and `server.security`. */
  readonly network: { readonly clientIp: ClientIpResolver; readonly ipFilter: IpFilter };
  /** Providers an operator switched off (management/provider-switch.ts): one object for the process, kept across reloads. */
  readonly disabledProviders: ProviderSwitchCheck;
}

/** What routing reads of the management API's provider switches. */
export interface ProviderSwitchCheck {
  isDisabled(name: string): boolean;
}

const noneDisabled: ProviderSwitchCheck = { isDisabled: () => false };

/** No bans: for a runtime built without the ban mirror (tools, tests). */
const noBans: BanCheck = { size: 0, isBanned: () => false };

export interface RuntimeOptions {
  now: () => number;
  /**
   * The runtime being replaced: pools of providers whose settings and credentials did not change
   * are kept, so cooldowns survive a reload; a pool whose stored credentials changed is rebuilt
   * and inherits the cooldowns of the credentials that stay.
   */
  previous?: Runtime;
  /**
   * Credentials from the encrypted store (OAuth tokens the refresher keeps fresh, stored API keys),
   * by provider name; they join the config's keys in the provider's pool.
   */
  storedCredentials?: ReadonlyMap<string, readonly UpstreamCredential[]>;
  /** The dynamic bans the IP filter checks first (net/ban-mirror.ts). */
  bans?: BanCheck;
  /** Told of each credential cooldown a new pool starts (limits/shared-cooldowns.ts, with a shared backend). */
  onCooldown?: (credentialId: string, coolingUntil: number) => void;
  /** The management API's provider switches; absent, every provider is enabled. */
  disabledProviders?: ProviderSwitchCheck;
}

function sameProvider(left: ReadonlyProviderConfig, right: ReadonlyProviderConfig): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

export function buildRuntime(loaded: LoadedConfig, options: RuntimeOptions): Runtime {
  const providers = new Map<string, ProviderRuntime>();
  for (const [name, providerConfig] of Object.entries(loaded.config.providers)) {
    const configCredentials = credentialsFromConfig(name, providerConfig);
    registerSecrets(configCredentials.map((credential) => credential.apiKey));
    const credentials: UpstreamCredential[] = [...configCredentials, ...(options.storedCredentials?.get(name) ?? [])];
    const previous = options.previous?.providers.get(name);
    const unchanged = previous !== undefined && sameProvider(previous.config, providerConfig) && previous.pool.holdsExactly(credentials);
    let pool: CredentialPool;
    if (unchanged) pool = previous.pool;
    else {
      pool = new CredentialPool(credentials, { now: options.now, ...(options.onCooldown === undefined ? {} : { onCooldown: options.onCooldown }) });
      // Stored credentials came or went: the ones that stay keep their cooldowns.
      if (previous !== undefined && sameProvider(previous.config, providerConfig)) pool.inheritHealth(previous.pool);
    }
    providers.set(name, {
      name,
      config: providerConfig,
      adapter: adapterFor(providerConfig.type),
      baseUrl: new URL(providerConfig.base_url),
      pool,
    });
  }
  const clientKeys = collectClientKeys(loaded);
  return {
    loaded,
    authenticator: createClientKeyAuthenticator(clientKeys),
    managementAuthenticator: createManagementAuthenticator(loaded.config.management, clientKeys, loaded.configPath ?? '(embedded default)'),
    router: createModelRouter(loaded.config.providers),
    providers,
    network: {
      clientIp: createClientIpResolver(loaded.config.server.trusted_proxies),
      ipFilter: compileIpFilter(loaded.config.server.security, options.bans ?? noBans),
    },
    disabledProviders: options.disabledProviders ?? noneDisabled,
  };
}
