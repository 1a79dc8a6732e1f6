import type { ReadonlyProviderConfig } from '../config/schema.js';
import type { ApiKeyCredential, UpstreamCredential } from '../providers/types.js';
import { cooldownMs, maxCooldownMs, type FailureKind } from './cooldown.js';
import { compileModelPatterns } from './model-patterns.js';

/** A credential's health as health/debug endpoints may show it: no key, no token. */
export interface CredentialSnapshot {
  id: string;
  provider: string;
  kind: UpstreamCredential['kind'];
  priority: number;
  /** Epoch milliseconds until which the credential sits out; undefined when it is available. */
  coolingUntil: number | undefined;
  consecutiveFailures: number;
}

export interface CredentialPoolOptions {
  /** Clock in epoch milliseconds; injected so tests advance time instead of sleeping. */
  now: () => number;
  /**
   * Told of every cooldown this pool starts (credential id, epoch ms until), so other replicas can
   * bench the same credential (limits/shared-cooldowns.ts announces it through the state backend).
   */
  onCooldown?: (credentialId: string, coolingUntil: number) => void;
}

interface PoolEntry {
  credential: UpstreamCredential;
  /** Epoch milliseconds; 0 = never cooled. Available when `coolingUntil <= now()`. */
  coolingUntil: number;
  consecutiveFailures: number;
}

interface PriorityTier {
  priority: number;
  entries: PoolEntry[];
  /** Index where the next round-robin scan starts. */
  cursor: number;
}

/**
 * The credentials of one provider, with per-credential cooldown. Picking reads in-process state
 * only; with a shared state backend the replicas tell each other of cooldowns (`onCooldown`,
 * `applyCooldown`), so a key one replica saw rate-limited sits out in every replica. Picking is
 * O(number of credentials) with no allocation, as it runs on every request.
 */
export class CredentialPool {
  private readonly tiers: PriorityTier[];
  private readonly entriesById = new Map<string, PoolEntry>();
  private readonly now: () => number;
  private readonly onCooldown: CredentialPoolOptions['onCooldown'];

  /** Throws on duplicate ids: a config or store bug that would make cooldowns hit the wrong key. */
  constructor(credentials: readonly UpstreamCredential[], options: CredentialPoolOptions) {
    this.now = options.now;
    this.onCooldown = options.onCooldown;
    const tiersByPriority = new Map<number, PriorityTier>();
    for (const credential of credentials) {
      if (this.entriesById.has(credential.id)) throw new Error(`Duplicate credential id: ${credential.id}`);
      const entry: PoolEntry = { credential, coolingUntil: 0, consecutiveFailures: 0 };
      this.entriesById.set(credential.id, entry);
      let tier = tiersByPriority.get(credential.priority);
      if (tier === undefined) {
        tier = { priority: credential.priority, entries: [], cursor: 0 };
        tiersByPriority.set(credential.priority, tier);
      }
      tier.entries.push(entry);
    }
    this.tiers = [...tiersByPriority.values()].sort((left, right) => left.priority - right.priority);
  }

  /**
   * True when the pool holds exactly these credentials: the same objects (stored credentials, which
   * the refresher updates in place), or API keys equal in id, key and priority (config keys are
   * rebuilt from the config on every reload).
   */
  holdsExactly(credentials: readonly UpstreamCredential[]): boolean {
    if (credentials.length !== this.entriesById.size) return false;
    return credentials.every((credential) => {
      const held = this.entriesById.get(credential.id)?.credential;
      if (held === credential) return true;
      return held?.kind === 'api_key' && credential.kind === 'api_key' && held.apiKey === credential.apiKey && held.priority === credential.priority && held.provider === credential.provider;
    });
  }

  /**
   * Takes over the cooldowns and failure counts of the credentials this pool shares (by id) with
   * `previous`: a credential added or removed beside them (a live credential change) must not
   * give a rate-limited key a fresh start.
   */
  inheritHealth(previous: CredentialPool): void {
    for (const [id, entry] of this.entriesById) {
      const old = previous.entriesById.get(id);
      if (old === undefined) continue;
      entry.coolingUntil = old.coolingUntil;
      entry.consecutiveFailures = old.consecutiveFailures;
    }
  }

  /** Number of credentials in the pool, cooling or not. */
  get size(): number {
    return this.entriesById.size;
  }

  /**
   * The next credential to try: the lowest priority number that has one available (not cooling,
   * not in `excludeIds`, which holds those this request already tried), round-robin within the
   * tier so equal keys share the load. `eligible` narrows the pool for one request (the keys that
   * serve its model: routing extras). Undefined when none is available.
   */
  pick(excludeIds: ReadonlySet<string>, eligible?: (credential: UpstreamCredential) => boolean): UpstreamCredential | undefined {
    const now = this.now();
    for (const tier of this.tiers) {
      const count = tier.entries.length;
      for (let step = 0; step < count; step += 1) {
        const index = (tier.cursor + step) % count;
        const entry = tier.entries[index]!;
        if (entry.coolingUntil > now || excludeIds.has(entry.credential.id)) continue;
        if (eligible !== undefined && !eligible(entry.credential)) continue;
        tier.cursor = (index + 1) % count;
        return entry.credential;
      }
    }
    return undefined;
  }

  /**
   * Benches a credential for `cooldownMs(kind, consecutive failures, retryAfterSeconds)`. Unknown
   * ids are ignored: after a reload a late report may name a credential that is gone.
   */
  reportFailure(id: string, kind: FailureKind, retryAfterSeconds?: number): void {
    const entry = this.entriesById.get(id);
    if (entry === undefined) return;
    entry.consecutiveFailures += 1;
    entry.coolingUntil = this.now() + cooldownMs(kind, entry.consecutiveFailures, retryAfterSeconds);
    this.onCooldown?.(id, entry.coolingUntil);
  }

  /**
   * A cooldown another replica started: the credential sits out until `coolingUntil` (epoch ms,
   * capped at the longest cooldown from now), unless it already sits out longer. False for an
   * unknown id (another config, or a credential this replica does not hold).
   */
  applyCooldown(id: string, coolingUntil: number): boolean {
    const entry = this.entriesById.get(id);
    if (entry === undefined) return false;
    const until = Math.min(coolingUntil, this.now() + maxCooldownMs);
    if (until > entry.coolingUntil) entry.coolingUntil = until;
    return true;
  }

  /**
   * Resets the consecutive-failure count, so the next 429 starts the back-off at 1 s again. A
   * running cooldown is left alone: a success from a request that started before another one's
   * 429 says little about the key now.
   */
  reportSuccess(id: string): void {
    const entry = this.entriesById.get(id);
    if (entry !== undefined) entry.consecutiveFailures = 0;
  }

  /**
   * Milliseconds from now until the first cooling credential is available again, for the
   * Retry-After of GW_NO_CREDENTIAL_AVAILABLE. Undefined when no credential is cooling.
   */
  earliestRecoveryMs(): number | undefined {
    const now = this.now();
    let earliest: number | undefined;
    for (const entry of this.entriesById.values()) {
      if (entry.coolingUntil > now && (earliest === undefined || entry.coolingUntil < earliest)) earliest = entry.coolingUntil;
    }
    return earliest === undefined ? undefined : earliest - now;
  }

  /** State for health and debug output, without secrets. */
  snapshot(): CredentialSnapshot[] {
    const now = this.now();
    return [...this.entriesById.values()].map((entry) => ({
      id: entry.credential.id,
      provider: entry.credential.provider,
      kind: entry.credential.kind,
      priority: entry.credential.priority,
      coolingUntil: entry.coolingUntil > now ? entry.coolingUntil : undefined,
      consecutiveFailures: entry.consecutiveFailures,
    }));
  }
}

/**
 * The API-key credentials of a configured provider. Ids are `<provider>-key-<n>`, 1-based in
 * config order, so they are stable across restarts and safe to log (they never contain the key);
 * reordering `api_keys` renumbers them. Priority defaults to 0 (the first tier).
 */
export function credentialsFromConfig(providerName: string, provider: ReadonlyProviderConfig): ApiKeyCredential[] {
  return provider.api_keys.map((entry, index) => {
    const credential: ApiKeyCredential = {
      id: configKeyId(providerName, index),
      provider: providerName,
      priority: typeof entry === 'string' ? 0 : (entry.priority ?? 0),
      kind: 'api_key',
      apiKey: typeof entry === 'string' ? entry : entry.key,
    };
    const excluded = typeof entry === 'string' ? undefined : compileModelPatterns(entry.excluded_models);
    if (excluded !== undefined && !excluded.empty) credential.excludedModels = excluded;
    return credential;
  });
}

/** The id of the config key at `index` (0-based) of a provider's `api_keys`. */
export function configKeyId(providerName: string, index: number): string {
  return `${providerName}-key-${index + 1}`;
}
