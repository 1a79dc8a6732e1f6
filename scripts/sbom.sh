#!/usr/bin/env bash
# CycloneDX SBOM of the production dependency tree (what ships; dev tools are not in the tarball or
# the image), reproducible (no timestamp or random serial) so two builds of one commit compare equal.
#
# usage: scripts/sbom.sh [OUTPUT]   (default: sbom.cdx.json at the repository root)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
output="${1:-$root/sbom.cdx.json}"
cyclonedx="$root/node_modules/.bin/cyclonedx-npm"
[ -x "$cyclonedx" ] || { echo "sbom: @cyclonedx/cyclonedx-npm is not installed (run npm ci)" >&2; exit 2; }
cd "$root"
"$cyclonedx" --omit dev --package-lock-only --output-reproducible --validate --spec-version 1.6 \
  --output-format JSON --output-file "$output"
echo "sbom: wrote $output"
