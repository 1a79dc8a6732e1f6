// Second half of the lockfile policy (scripts/lockfile-check.sh), for what lockfile-lint cannot see.
//
// This lockfile is written with npm's `omit-lockfile-registry-resolved`, so most entries carry no
// `resolved` URL and lockfile-lint's host and https checks have nothing to inspect. What then
// decides where a tarball comes from is npm's configured registry, and what decides that the
// tarball is the reviewed one is the `integrity` hash. So this check requires: every installed
// package has a sha512 integrity; any `resolved` URL is https://registry.npmjs.org/; and, when
// entries omit `resolved`, the registry npm will use is https://registry.npmjs.org/.
//
// usage: node scripts/lockfile-integrity.mjs LOCKFILE REGISTRY   (REGISTRY: `npm config get registry`)
import { readFileSync } from 'node:fs';

const [lockfilePath, registry] = process.argv.slice(2);
if (!lockfilePath || !registry) {
  console.error('usage: lockfile-integrity.mjs LOCKFILE REGISTRY');
  process.exit(2);
}
const allowedRegistry = 'https://registry.npmjs.org/';
const lockfile = JSON.parse(readFileSync(lockfilePath, 'utf8'));
if (lockfile.lockfileVersion < 2 || typeof lockfile.packages !== 'object') {
  console.error('lockfile-integrity: lockfileVersion 2 or 3 expected (npm 7+)');
  process.exit(1);
}

const problems = [];
let withoutResolved = 0;
let checked = 0;
for (const [path, entry] of Object.entries(lockfile.packages)) {
  // The root project, workspace links and packages bundled inside another tarball are not fetched.
  if (path === '' || entry.link === true || entry.inBundle === true) continue;
  checked += 1;
  if (typeof entry.integrity !== 'string' || !/^sha512-[A-Za-z0-9+/]{86}==$/.test(entry.integrity)) {
    problems.push(`${path}: integrity must be a sha512 hash (got ${entry.integrity ?? 'none'})`);
  }
  if (entry.resolved === undefined) withoutResolved += 1;
  else if (typeof entry.resolved !== 'string' || !entry.resolved.startsWith(allowedRegistry)) {
    problems.push(`${path}: resolved URL outside ${allowedRegistry}: ${entry.resolved}`);
  }
}
const normalizedRegistry = registry.endsWith('/') ? registry : `${registry}/`;
if (withoutResolved > 0 && normalizedRegistry !== allowedRegistry) {
  problems.push(`${withoutResolved} entries have no resolved URL and npm's registry is ${registry}, not ${allowedRegistry}`);
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`lockfile-integrity: ${problem}`);
  process.exit(1);
}
console.log(`lockfile-integrity: ${checked} packages with sha512 integrity from ${allowedRegistry}`);
