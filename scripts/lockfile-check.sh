#!/usr/bin/env bash
# Dependency policy for package-lock.json:
#  1. lockfile-lint: every `resolved` URL is on registry.npmjs.org, over https, with a sha512
#     integrity, and names the package its entry says it is (no "lodash" entry quietly resolving to
#     another tarball). A lockfile pointing at a git URL, a mirror or plain http fails.
#  2. scripts/lockfile-integrity.mjs: every installed package HAS a sha512 integrity, and entries
#     without a `resolved` URL (npm's omit-lockfile-registry-resolved) will be fetched from
#     registry.npmjs.org because that is npm's configured registry.
#
# usage: scripts/lockfile-check.sh [LOCKFILE]   (default: package-lock.json at the repository root)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lockfile="${1:-$root/package-lock.json}"
[ -f "$lockfile" ] || { echo "lockfile-check: not found: $lockfile" >&2; exit 2; }
lockfile_lint="$root/node_modules/.bin/lockfile-lint"
[ -x "$lockfile_lint" ] || { echo "lockfile-check: lockfile-lint is not installed (run npm ci)" >&2; exit 2; }
"$lockfile_lint" --path "$lockfile" --type npm \
  --allowed-hosts npm \
  --empty-hostname false \
  --validate-https \
  --validate-integrity \
  --validate-package-names \
  --format plain
node "$root/scripts/lockfile-integrity.mjs" "$lockfile" "$(cd "$(dirname "$lockfile")" && npm config get registry)"
