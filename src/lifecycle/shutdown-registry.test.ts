import { describe, expect, it } from 'vitest';
import { ShutdownRegistry } from './shutdown-registry.js';

describe('ShutdownRegistry', () => {
  it('closes in reverse order of registration, each step after the previous one finished', async () => {
    const registry = new ShutdownRegistry();
    const events: string[] = [];
    const slowStep = (name: string) => async () => {
      events.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push(`${name} end`);
    };
    registry.add('state backend', slowStep('state'));
    registry.add('oauth runtime', slowStep('oauth'));
    registry.add('upstream client', () => {
      events.push('upstream');
    });
    registry.add('http server', slowStep('http'));
    expect(registry.closeOrder).toEqual(['http server', 'upstream client', 'oauth runtime', 'state backend']);
    await registry.closeAll();
    expect(events).toEqual(['http start', 'http end', 'upstream', 'oauth start', 'oauth end', 'state start', 'state end']);
  });

  it('runs every step although one fails, reports it by name, and rethrows the first failure', async () => {
    const reported: string[] = [];
    const registry = new ShutdownRegistry({ onError: (name, error) => reported.push(`${name}: ${(error as Error).message}`) });
    const closed: string[] = [];
    registry.add('first', () => {
      closed.push('first');
    });
    registry.add('second', () => Promise.reject(new Error('second failed')));
    registry.add('third', () => {
      throw new Error('third failed');
    });
    await expect(registry.closeAll()).rejects.toThrow('third failed');
    expect(closed).toEqual(['first']);
    expect(reported).toEqual(['third: third failed', 'second: second failed']);
  });

  it('closes what was created so far when a step of the start fails, and rethrows the start error', async () => {
    const registry = new ShutdownRegistry();
    const closed: string[] = [];
    registry.add('state backend', () => {
      closed.push('state backend');
    });
    registry.add('oauth runtime', () => Promise.reject(new Error('scheduler already stopped')));
    await expect(registry.closeOnFailure(() => Promise.reject(new Error('port in use')))).rejects.toThrow('port in use');
    expect(closed).toEqual(['state backend']);
  });

  it('closes once: a second call shares the first, and nothing can be added while closing', async () => {
    const registry = new ShutdownRegistry();
    let closes = 0;
    registry.add('part', () => {
      closes += 1;
    });
    const first = registry.closeAll();
    expect(registry.closeAll()).toBe(first);
    await first;
    expect(closes).toBe(1);
    expect(() => registry.add('late', () => undefined)).toThrow(/already closing/);
  });
});
