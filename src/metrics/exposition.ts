/**
 * The Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): the only place metric text is
 * written. Requests never touch it: counters are plain numbers bumped per request, and this runs at
 * scrape time only. No dependency (prom-client's labelled counters hash a label object per
 * increment; ours are array slots chosen once).
 */

/** The `Content-Type` of a 0.0.4 text exposition. */
export const expositionContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** A label set in a fixed order: `[['provider', 'openai'], ['model', 'gpt-4o']]`. */
export type Labels = readonly (readonly [name: string, value: string])[];

/**
 * Escapes a label value as the format requires (backslash, double quote, line feed). Label values
 * here come from the config or from fixed lists, never from a request; escaping still keeps a
 * hostile config name from breaking the exposition.
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and line feed only. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Go's float formatting, as Prometheus parses it: `+Inf`, `-Inf`, `NaN`, else the shortest decimal. */
export function formatSampleValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

function labelText(labels: Labels): string {
  if (labels.length === 0) return '';
  return `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

/** Collects one exposition: each family once (HELP, TYPE, then its samples), in the order written. */
export class ExpositionWriter {
  private readonly lines: string[] = [];
  private readonly families = new Set<string>();

  /** Starts a metric family; writing the same family twice is a bug (promtool refuses it). */
  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): this {
    if (this.families.has(name)) throw new Error(`metric family ${name} written twice`);
    this.families.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Labels, value: number): this {
    this.lines.push(`${name}${labelText(labels)} ${formatSampleValue(value)}`);
    return this;
  }

  /**
   * A histogram's samples: cumulative `_bucket{le}` for each upper bound and `+Inf`, `_sum`, `_count`.
   * `counts[i]` is the count of observations in bucket i alone (not cumulative); the last slot is +Inf.
   */
  histogram(name: string, labels: Labels, bounds: readonly number[], counts: ArrayLike<number>, sum: number): this {
    let cumulative = 0;
    for (let index = 0; index <= bounds.length; index += 1) {
      cumulative += counts[index] ?? 0;
      const bound = index < bounds.length ? formatSampleValue(bounds[index]!) : '+Inf';
      this.sample(`${name}_bucket`, [...labels, ['le', bound]], cumulative);
    }
    this.sample(`${name}_sum`, labels, sum);
    this.sample(`${name}_count`, labels, cumulative);
    return this;
  }

  /** The exposition, ending with a line feed as the format requires. */
  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}
