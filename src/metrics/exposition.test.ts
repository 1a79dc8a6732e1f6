import { describe, expect, it } from 'vitest';
import { escapeLabelValue, ExpositionWriter, formatSampleValue } from './exposition.js';

describe('Prometheus text exposition', () => {
  it('escapes backslash, double quote and line feed in label values, so a hostile value cannot end its series', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const text = new ExpositionWriter().family('x_total', 'counter', 'help\nline').sample('x_total', [['rule', 'evil"} 1\n# HELP']], 2).text();
    expect(text).toBe('# HELP x_total help\\nline\n# TYPE x_total counter\nx_total{rule="evil\\"} 1\\n# HELP"} 2\n');
    expect(text.split('\n')).toHaveLength(4); // three lines and the final line feed
  });

  it('writes histograms cumulatively with +Inf, _sum and _count', () => {
    const text = new ExpositionWriter().family('d', 'histogram', 'h').histogram('d', [['p', 'a']], [0.1, 1], [2, 0, 3], 4.5).text();
    expect(text).toContain('d_bucket{p="a",le="0.1"} 2\nd_bucket{p="a",le="1"} 2\nd_bucket{p="a",le="+Inf"} 5\nd_sum{p="a"} 4.5\nd_count{p="a"} 5\n');
  });

  it('formats special values as Go does and refuses a family written twice', () => {
    expect([Infinity, -Infinity, NaN, 0.25].map(formatSampleValue)).toEqual(['+Inf', '-Inf', 'NaN', '0.25']);
    const writer = new ExpositionWriter().family('a', 'gauge', 'h');
    expect(() => writer.family('a', 'gauge', 'h')).toThrow(/written twice/);
  });
});
