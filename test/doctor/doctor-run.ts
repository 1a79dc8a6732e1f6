import { Value } from '@sinclair/typebox/value';
import { expect } from 'vitest';
import { DoctorReportSchema, type DoctorReport } from '../../src/doctor/report-schema.js';
import { runCliCaptured } from '../helpers/cli-in-process.js';

export interface DoctorRun {
  code: number;
  report: DoctorReport;
  stderr: string;
  stdout: string;
}

/**
 * The machines these tests run on are often containers themselves (a CI runner): `--container no`
 * says this is not the deployment's container. The container checks have their own tests
 * (doctor-deployment.test.ts, and inside the hardened container in test/container/).
 */
export async function doctor(args: string[], cwd = '/', env: Record<string, string> = {}): Promise<DoctorRun> {
  const run = await runCliCaptured(['doctor', '--json', '--container', 'no', ...args], cwd, { env });
  // Exactly one JSON document on stdout, nothing on stderr, and it matches the published schema.
  const report = JSON.parse(run.stdout) as DoctorReport;
  expect([...Value.Errors(DoctorReportSchema, report)].map((error) => `${error.path}: ${error.message}`)).toEqual([]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(report.exit_code);
  return { code: run.code, report, stderr: run.stderr, stdout: run.stdout };
}


/** One check of a report, by id. */
export function check(report: DoctorReport, id: string): DoctorReport['checks'][number] {
  const found = report.checks.find((entry) => entry.id === id);
  if (found === undefined) throw new Error(`no check ${id}`);
  return found;
}
