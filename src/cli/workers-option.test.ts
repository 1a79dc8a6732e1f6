import { describe, expect, it } from 'vitest';
import { maxWorkers, parseWorkersOption } from './workers-option.js';

describe('parseWorkersOption (serve --workers)', () => {
  it('accepts whole numbers from 1 to the maximum, and auto as the core count', () => {
    expect(parseWorkersOption('1')).toBe(1);
    expect(parseWorkersOption('4')).toBe(4);
    expect(parseWorkersOption(String(maxWorkers))).toBe(maxWorkers);
    expect(parseWorkersOption('auto', () => 6)).toBe(6);
    expect(parseWorkersOption('auto', () => 500)).toBe(maxWorkers);
  });

  it.each([
    ['0', /from 1 to 64.*got 0/],
    ['65', /from 1 to 64.*got 65/],
    ['-2', /whole number.*got "-2"/],
    ['1.5', /whole number.*got "1.5"/],
    ['two', /whole number.*got "two"/],
    ['', /whole number.*got ""/],
    ['0x2', /whole number.*got "0x2"/],
    ['1e1', /whole number.*got "1e1"/],
  ])('refuses %j with a message naming it', (value, message) => {
    expect(() => parseWorkersOption(value)).toThrow(message);
  });
});
