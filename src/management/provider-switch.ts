/**
 * Providers switched off at run time (`POST /v0/management/providers/{name}/disable`): the router's
 * choice for such a provider's models is refused with 503 `GW_PROVIDER_DISABLED` until it is
 * enabled again. One object for the life of the process, so a config reload keeps the switches
 * (a provider removed from the config simply has no models any more).
 *
 * Per replica: a switch is an incident response on the replica the operator talks to; a fleet is
 * switched by calling each replica (docs/operations.md), or for good by removing the provider from
 * the config.
 */
export interface ProviderSwitchEntry {
  readonly name: string;
  readonly disabled_by: string;
  readonly disabled_at: string;
}

export class ProviderSwitch {
  private readonly disabled = new Map<string, ProviderSwitchEntry>();

  /** Read on every routed request: one Map lookup, none at all while nothing is disabled. */
  isDisabled(name: string): boolean {
    return this.disabled.size > 0 && this.disabled.has(name);
  }

  /** True when it was enabled before. */
  disable(name: string, actor: string, now: Date = new Date()): boolean {
    if (this.disabled.has(name)) return false;
    this.disabled.set(name, { name, disabled_by: actor, disabled_at: now.toISOString() });
    return true;
  }

  /** True when it was disabled before. */
  enable(name: string): boolean {
    return this.disabled.delete(name);
  }

  entry(name: string): ProviderSwitchEntry | undefined {
    return this.disabled.get(name);
  }

  get size(): number {
    return this.disabled.size;
  }
}
