import { describe, expect, it } from 'vitest';
import { mergeExpositions } from './aggregate.js';
import { ExpositionWriter } from './exposition.js';

/** The merge of several workers' expositions: what is summed, what is not, and that the text stays one family per name. */
function workerText(requests: number, blocked: number, started: number, latencyCounts: number[]): string {
  return new ExpositionWriter()
    .family('cliproxy_requests_total', 'counter', 'Answered requests.')
    .sample('cliproxy_requests_total', [['surface', 'openai-chat'], ['status', '2xx']], requests)
    .family('cliproxy_alerts_fired_total', 'counter', 'Firings.')
    .sample('cliproxy_alerts_fired_total', [['rule', 'High auth failure rate']], 1)
    .family('cliproxy_request_duration_seconds', 'histogram', 'Latency.')
    .histogram('cliproxy_request_duration_seconds', [['surface', 'openai-chat']], [0.1, 1], latencyCounts, 0.5)
    .family('cliproxy_blocked_ips', 'gauge', 'Blocked now.')
    .sample('cliproxy_blocked_ips', [], blocked)
    .family('process_resident_memory_bytes', 'gauge', 'RSS.')
    .sample('process_resident_memory_bytes', [], 100)
    .family('process_start_time_seconds', 'gauge', 'Start.')
    .sample('process_start_time_seconds', [], started)
    .text();
}

describe('mergeExpositions', () => {
  const merged = mergeExpositions([workerText(3, 2, 1_700_000_100, [1, 2, 0]), workerText(4, 2, 1_700_000_050, [0, 1, 1])]);
  const value = (series: string) => Number(merged.split('\n').find((line) => line.startsWith(`${series} `))?.split(' ').at(-1));

  it('sums counters and histogram series across workers', () => {
    expect(value('cliproxy_requests_total{surface="openai-chat",status="2xx"}')).toBe(7);
    expect(value('cliproxy_alerts_fired_total{rule="High auth failure rate"}')).toBe(2);
    expect(value('cliproxy_request_duration_seconds_bucket{surface="openai-chat",le="0.1"}')).toBe(1);
    expect(value('cliproxy_request_duration_seconds_bucket{surface="openai-chat",le="+Inf"}')).toBe(5);
    expect(value('cliproxy_request_duration_seconds_count{surface="openai-chat"}')).toBe(5);
    expect(value('cliproxy_request_duration_seconds_sum{surface="openai-chat"}')).toBe(1);
  });

  it('does not multiply shared state: blocked IPs are the maximum, the start time the oldest; memory is summed', () => {
    expect(value('cliproxy_blocked_ips')).toBe(2);
    expect(value('process_start_time_seconds')).toBe(1_700_000_050);
    expect(value('process_resident_memory_bytes')).toBe(200);
  });

  it('keeps each family once, HELP and TYPE before its samples', () => {
    const lines = merged.trimEnd().split('\n');
    expect(lines.filter((line) => line === '# TYPE cliproxy_requests_total counter')).toHaveLength(1);
    const typeAt = lines.indexOf('# TYPE cliproxy_blocked_ips gauge');
    expect(lines[typeAt - 1]).toBe('# HELP cliproxy_blocked_ips Blocked now.');
    expect(lines[typeAt + 1]).toBe('cliproxy_blocked_ips 2');
    expect(merged.endsWith('\n')).toBe(true);
  });

  it('keeps a family only one worker has, and merges nothing into an empty text', () => {
    const extra = new ExpositionWriter().family('process_open_fds', 'gauge', 'Fds.').sample('process_open_fds', [], 12).text();
    expect(mergeExpositions([workerText(1, 0, 1, [0, 0, 1]), extra])).toContain('process_open_fds 12\n');
    expect(mergeExpositions([])).toBe('');
  });
});
