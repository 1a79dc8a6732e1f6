/**
 * Reading a Prometheus text exposition in tests: one sample's value by name and labels, and the
 * series a scrape holds (for cardinality checks).
 */

/** The sample lines (no comments) of an exposition. */
export function seriesLines(exposition: string): string[] {
  return exposition.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** The series of an exposition without their values: `name{labels}`. */
export function seriesNames(exposition: string): Set<string> {
  return new Set(seriesLines(exposition).map((line) => line.slice(0, line.lastIndexOf(' '))));
}

/**
 * The value of the sample `name` whose labels include every pair of `labels` (0 when absent, as a
 * counter not yet written reads). Labels are matched as `key="value"` text.
 */
export function sampleValue(exposition: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of seriesLines(exposition)) {
    const series = line.slice(0, line.lastIndexOf(' '));
    const brace = series.indexOf('{');
    const sampleName = brace === -1 ? series : series.slice(0, brace);
    if (sampleName !== name) continue;
    const labelText = brace === -1 ? '' : series.slice(brace + 1, -1);
    const present = labelText === '' ? [] : labelText.split(/,(?=[a-z_]+=")/);
    if (wanted.every((pair) => present.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
