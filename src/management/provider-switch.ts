/**
 * Providers switched off at run time (`POST /v0/management/providers/{name}/disable`): the router's
 * choice for such a provider's models is refused with 503 `GW_PROVIDER_DISABLED` until it is
 * enabled again. One object for the life of the process, so a config reload keeps the switches
 * (a provider removed from the config simply has no models any more).
 *
 * Per replica: a switch is an incident response on the replica the operator talks to; a fleet is
 * switched by calling each replica (docs/operations.md), or for good by removing the provider from
 * the config. Within a replica every `serve --workers` worker follows it: a switch made through the
 * API is handed to `onChange` listeners (cluster/worker.ts sends it to the primary, which passes it
 * to every other worker and to each replacement), and a switch from elsewhere comes in by `apply`.
 */
export type ProviderSwitchChange = { readonly action: 'disable'; readonly entry: ProviderSwitchEntry } | { readonly action: 'enable'; readonly name: string };

export interface ProviderSwitchEntry {
  readonly name: string;
  readonly disabled_by: string;
  readonly disabled_at: string;
}

export class ProviderSwitch {
  private readonly disabled = new Map<string, ProviderSwitchEntry>();
  private readonly listeners: ((change: ProviderSwitchChange) => void)[] = [];

  /** Read on every routed request: one Map lookup, none at all while nothing is disabled. */
  isDisabled(name: string): boolean {
    return this.disabled.size > 0 && this.disabled.has(name);
  }

  /** True when it was enabled before. */
  disable(name: string, actor: string, now: Date = new Date()): boolean {
    if (this.disabled.has(name)) return false;
    const entry = { name, disabled_by: actor, disabled_at: now.toISOString() };
    this.disabled.set(name, entry);
    this.announce({ action: 'disable', entry });
    return true;
  }

  /** True when it was disabled before. */
  enable(name: string): boolean {
    if (!this.disabled.delete(name)) return false;
    this.announce({ action: 'enable', name });
    return true;
  }

  /** A switch made elsewhere (another worker): applied without announcing it again. */
  apply(change: ProviderSwitchChange): void {
    if (change.action === 'disable') this.disabled.set(change.entry.name, change.entry);
    else this.disabled.delete(change.name);
  }

  /** Calls `listener` with every switch made through disable() and enable() from now on. */
  onChange(listener: (change: ProviderSwitchChange) => void): void {
    this.listeners.push(listener);
  }

  /** The providers switched off now, as changes that reproduce them (for a worker that starts later). */
  changes(): ProviderSwitchChange[] {
    return [...this.disabled.values()].map((entry) => ({ action: 'disable', entry }));
  }

  private announce(change: ProviderSwitchChange): void {
    for (const listener of this.listeners) listener(change);
  }

  entry(name: string): ProviderSwitchEntry | undefined {
    return this.disabled.get(name);
  }

  get size(): number {
    return this.disabled.size;
  }
}
