import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { onRequestHookHandler } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createMemorySecurityEvents } from '../../credentials/security-events.js';
import { createStandaloneManagementServices } from '../../management/services.js';
import { ExchangeObservers } from '../exchange.js';
import type { Runtime } from '../runtime.js';
import { compileRequestHooks, requestHookOrder, type HookContext, type RequestHookEntry } from './hook-order.js';

/** The hook-order table of docs/architecture.md, between its markers: `[name, phase, scopes]` per row. */
function documentedOrder(): [string, string, string][] {
  const text = readFileSync(fileURLToPath(new URL('../../../docs/architecture.md', import.meta.url)), 'utf8');
  const table = /<!-- hook-order:start -->\n([\s\S]*?)<!-- hook-order:end -->/.exec(text)?.[1] ?? '';
  return table
    .split('\n')
    .filter((line) => /^\| \d+ \|/.test(line))
    .map((line) => {
      const [, name = '', phase = '', scopes = ''] = line.split('|').slice(1).map((cell) => cell.trim());
      return [name.replace(/`/g, '').replace(' (slot)', ''), phase, scopes];
    });
}

const silentLogger = { error: () => undefined } as unknown as ConstructorParameters<typeof ExchangeObservers>[1];

function contextWith(overrides: Partial<HookContext> = {}): HookContext {
  return {
    runtime: () => ({}) as Runtime,
    isShuttingDown: () => false,
    bodyLimitBytes: 1024,
    observers: new ExchangeObservers([], silentLogger),
    slotHooks: {},
    management: createStandaloneManagementServices(createMemorySecurityEvents(), '/nonexistent/cliproxy-test/totp.json'),
    ...overrides,
  };
}

describe('requestHookOrder', () => {
  it('is the order docs/architecture.md shows, with the same phases, scopes and slots', () => {
    const inCode = requestHookOrder.map((entry) => [entry.name, entry.phase, entry.scopes.join(', ')]);
    expect(documentedOrder()).toEqual(inCode);
    const text = readFileSync(fileURLToPath(new URL('../../../docs/architecture.md', import.meta.url)), 'utf8');
    for (const entry of requestHookOrder.filter((hook) => hook.slot === true)) expect(text).toContain(`\`${entry.name}\` (slot)`);
  });

  it('puts the IP slots before the shutdown gate and both authenticators, key-policy after the client key', () => {
    const position = (name: string): number => requestHookOrder.findIndex((entry) => entry.name === name);
    for (const slot of ['ip-filter', 'ip-rate-limit']) {
      expect(position(slot)).toBeLessThan(position('shutdown-gate'));
      expect(position(slot)).toBeLessThan(position('client-key'));
      expect(position(slot)).toBeLessThan(position('management-auth'));
    }
    expect(position('key-policy')).toBeGreaterThan(position('client-key'));
  });

  it('never puts a key check or a slot in the public scope', () => {
    const publicHooks = requestHookOrder.filter((entry) => entry.scopes.includes('public')).map((entry) => entry.name);
    expect(publicHooks).toEqual(['exchange-start', 'request-id', 'security-headers']);
  });
});

describe('compileRequestHooks', () => {
  it('installs nothing for an empty slot or an inactive record, and fills a slot from slotHooks', () => {
    const empty = compileRequestHooks(requestHookOrder, contextWith());
    expect(empty.installedIn('client')).toEqual(['request-id', 'shutdown-gate', 'client-key']);
    expect(empty.installedIn('management')).toEqual(['request-id', 'shutdown-gate', 'management-auth']);
    expect(empty.installedIn('public')).toEqual(['request-id']);
    const filler: onRequestHookHandler = (_request, _reply, done) => done();
    const filled = compileRequestHooks(requestHookOrder, contextWith({ slotHooks: { 'ip-filter': filler } }));
    expect(filled.installedIn('client')).toEqual(['request-id', 'ip-filter', 'shutdown-gate', 'client-key']);
    expect(filled.installedIn('public')).toEqual(['request-id']);
  });

  it('compiles each entry once, however many scopes name it', () => {
    let created = 0;
    const entry: RequestHookEntry = {
      name: 'counted',
      phase: 'onRequest',
      scopes: ['public', 'client', 'management'],
      create: () => {
        created += 1;
        return (_request, _reply, done) => done();
      },
    };
    const compiled = compileRequestHooks([entry], contextWith());
    expect(created).toBe(1);
    expect(compiled.installedIn('management')).toEqual(['counted']);
  });

  it('refuses a name listed twice', () => {
    const entry = requestHookOrder[1]!;
    expect(() => compileRequestHooks([entry, entry], contextWith())).toThrow(/listed twice/);
  });
});
