import type { DoctorReport } from './report-schema.js';

/**
 * The human form of a report: one line per check (status, id, what was found), its fix and
 * detail lines indented under it, then the summary. Every string in it already went through the
 * redactor (run-doctor.ts). The JSON form is the report itself.
 */
const labels: Readonly<Record<DoctorReport['checks'][number]['status'], string>> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

export function formatReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.id.length));
  const lines = [`cliproxyapi doctor ${report.version}: ${report.config ?? 'the built-in default (no config file)'}`];
  for (const check of report.checks) {
    lines.push(`${labels[check.status]}  ${check.id.padEnd(width)}  ${check.message}`);
    const indent = ' '.repeat(width + 8);
    for (const detail of check.details ?? []) lines.push(`${indent}- ${detail}`);
    if (check.fix !== undefined && check.status !== 'pass') lines.push(`${indent}fix: ${check.fix}`);
  }
  const { summary } = report;
  const verdict = report.ok ? 'OK' : report.strict && summary.fail === 0 ? 'FAILED (--strict: warnings fail)' : 'FAILED';
  lines.push(`${summary.pass} pass, ${summary.warn} warn, ${summary.fail} fail, ${summary.skip} skip: ${verdict}`);
  return `${lines.join('\n')}\n`;
}
