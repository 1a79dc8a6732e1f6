import { spawnSync } from 'node:child_process';

/**
 * Prometheus' own checker (`promtool check metrics`, Debian package `prometheus`, installed in CI by
 * .ci/steps/metrics.sh). Outside CI a machine without it skips the check loudly; in CI (CI=true) a
 * missing promtool fails the test instead, so the check can never silently not run there.
 */
export function promtoolAvailable(): boolean {
  const found = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
  if (found.error === undefined && found.status === 0) return true;
  if (process.env['CI'] === 'true') throw new Error('promtool is not on PATH in CI: .ci/steps/metrics.sh installs the Debian package prometheus');
  process.stderr.write('\n*** promtool is not on PATH: `promtool check metrics` is SKIPPED. Install the Debian package prometheus to run it. ***\n\n');
  return false;
}

/** Runs `promtool check metrics` over an exposition; status 0 and no output mean it is clean (lint warnings fail too). */
export function promtoolCheckMetrics(exposition: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}
