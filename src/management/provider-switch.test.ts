import { describe, expect, it } from 'vitest';
import { ProviderSwitch, type ProviderSwitchChange } from './provider-switch.js';

/** What a `serve --workers` worker relays (cluster/worker.ts): its own switches, never the ones it was handed. */
describe('ProviderSwitch changes', () => {
  it('announces a switch made here once, and not a switch applied from elsewhere', () => {
    const here = new ProviderSwitch();
    const announced: ProviderSwitchChange[] = [];
    here.onChange((change) => announced.push(change));
    expect(here.disable('oai', 'management:ops', new Date('2026-12-03T19:00:00Z'))).toBe(true);
    expect(here.disable('oai', 'management:ops')).toBe(false);
    here.apply({ action: 'disable', entry: { name: 'claude', disabled_by: 'management:other', disabled_at: '2026-12-03T19:01:00Z' } });
    expect(here.isDisabled('claude')).toBe(true);
    expect(here.enable('claude')).toBe(true);
    expect(here.enable('claude')).toBe(false);
    expect(announced).toEqual([
      { action: 'disable', entry: { name: 'oai', disabled_by: 'management:ops', disabled_at: '2026-12-03T19:00:00.000Z' } },
      { action: 'enable', name: 'claude' },
    ]);
  });

  it('hands a worker that starts later the switches in force, which reproduce them there', () => {
    const primary = new ProviderSwitch();
    primary.apply({ action: 'disable', entry: { name: 'oai', disabled_by: 'management:ops', disabled_at: '2026-12-03T19:00:00.000Z' } });
    primary.apply({ action: 'disable', entry: { name: 'gemini', disabled_by: 'management:ops', disabled_at: '2026-12-03T19:00:01.000Z' } });
    primary.apply({ action: 'enable', name: 'gemini' });
    const replacement = new ProviderSwitch();
    for (const change of primary.changes()) replacement.apply(change);
    expect([replacement.isDisabled('oai'), replacement.isDisabled('gemini'), replacement.entry('oai')?.disabled_by]).toEqual([true, false, 'management:ops']);
  });
});
