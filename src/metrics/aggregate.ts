import { formatSampleValue } from './exposition.js';

/**
 * One exposition for the whole of `serve --workers N`: each worker counts the requests it served
 * (its own array slots, metrics/request-metrics.ts), so a scrape that reached one worker would
 * show a 1/N sample of the traffic and its counters would jump between workers' values from one
 * scrape to the next. The worker that takes the scrape gathers every worker's text through the
 * primary (cluster/metrics-gathering.ts) and merges them here, series by series:
 *
 * - counters and histograms (`_bucket`, `_sum`, `_count`): **summed** — requests, failures and
 *   CPU seconds of the cluster;
 * - gauges of one process's memory and descriptors: summed (the cluster's footprint);
 * - gauges of state every worker shares (`cliproxy_blocked_ips`: the one ban list of the primary's
 *   store or Redis; `cliproxy_credentials`: cooldowns are shared too): the **maximum**, not N times
 *   the same number;
 * - `process_start_time_seconds`: the **minimum** (the oldest worker); `nodejs_version_info`: the
 *   first worker's (all run the same binary).
 *
 * A worker replaced after a crash starts from zero, so a summed counter can go down: Prometheus's
 * `rate()` and `increase()` treat that as a counter reset, as they do for a restarted process.
 * Series are kept in the order they first appear; families keep their HELP and TYPE lines.
 */
export type GaugeMerge = 'sum' | 'max' | 'min' | 'first';

/** How each gauge family merges; a gauge not listed is summed. */
const gaugeMerges: Readonly<Record<string, GaugeMerge>> = {
  cliproxy_blocked_ips: 'max',
  cliproxy_credentials: 'max',
  process_start_time_seconds: 'min',
  nodejs_version_info: 'first',
};

interface Family {
  name: string;
  /** `# HELP` and `# TYPE` lines, as the first text had them. */
  header: string[];
  merge: GaugeMerge;
  /** Series key (name and labels, as written) → merged value. */
  samples: Map<string, number>;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function merged(previous: number, next: number, merge: GaugeMerge): number {
  if (merge === 'sum') return previous + next;
  if (merge === 'max') return Math.max(previous, next);
  if (merge === 'min') return Math.min(previous, next);
  return previous;
}

/**
 * Merges the texts of several workers (Prometheus text 0.0.4 as exposition.ts writes it: HELP and
 * TYPE before each family's samples, no timestamps). A line that is neither is dropped.
 */
export function mergeExpositions(texts: readonly string[]): string {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  for (const text of texts) {
    current = undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
        const name = line.split(' ')[2] ?? '';
        let family = families.get(name);
        if (family === undefined) {
          family = { name, header: [], merge: 'sum', samples: new Map() };
          families.set(name, family);
        }
        if (family.header.length < 2 && !family.header.includes(line)) family.header.push(line);
        if (line.startsWith('# TYPE ') && line.endsWith(' gauge')) family.merge = gaugeMerges[name] ?? 'sum';
        current = family;
        continue;
      }
      if (line.startsWith('#') || current === undefined) continue;
      const space = line.lastIndexOf(' ');
      if (space <= 0) continue;
      const series = line.slice(0, space);
      const value = parseValue(line.slice(space + 1));
      const previous = current.samples.get(series);
      current.samples.set(series, previous === undefined ? value : merged(previous, value, current.merge));
    }
  }
  const lines: string[] = [];
  for (const family of families.values()) {
    lines.push(...family.header);
    for (const [series, value] of family.samples) lines.push(`${series} ${formatSampleValue(value)}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
