import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { doctorCheckIds } from '../../src/doctor/run-doctor.js';

/** docs/doctor.md lists every check the doctor runs, in report order, and no other. */
describe('docs/doctor.md', () => {
  it('lists the checks of run-doctor.ts, in order', () => {
    const text = readFileSync(new URL('../../docs/doctor.md', import.meta.url), 'utf8');
    const table = text.slice(text.indexOf('<!-- doctor-checks:start -->'), text.indexOf('<!-- doctor-checks:end -->'));
    const documented = [...table.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((match) => match[1]);
    expect(documented).toEqual(doctorCheckIds);
  });
});
