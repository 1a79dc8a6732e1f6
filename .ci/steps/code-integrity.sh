#!/usr/bin/env bash
# Code-integrity step of CI (called by .ci/run after `npm ci`, before `npm test`).
#  1. Installs the tools the code-integrity tests need (idempotent, non-interactive):
#     git-secrets, minisign, gpg, yamllint, shellcheck (Debian/Ubuntu apt, or Homebrew on macOS),
#     and action-validator (npm, exact versions, into a cache dir outside the repository).
#  2. Runs the checks that are not tests: secret scan of tree and history, lockfile policy, SBOM.
# The tests in test/code-integrity/ then exercise the same scripts against throwaway repositories.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Pinned versions of the npm-distributed linter (the repository's package.json stays untouched).
action_validator_version="0.6.0"
tools_dir="${CODE_INTEGRITY_TOOLS:-${HOME}/.cache/cliproxyapi-ci-tools}"

missing_commands() {
  local command_name
  for command_name in git-secrets minisign gpg gpgv yamllint shellcheck; do
    command -v "$command_name" >/dev/null 2>&1 || printf '%s ' "$command_name"
  done
}

echo "== code-integrity: tools"
if [ -n "$(missing_commands)" ]; then
  if [ "$(uname -s)" = "Darwin" ]; then
    HOMEBREW_NO_AUTO_UPDATE=1 brew install git-secrets minisign gnupg yamllint shellcheck
  else
    sudo_command=()
    if [ "$(id -u)" -ne 0 ]; then sudo_command=(sudo -n); fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_command[@]}" apt-get update -q
    "${sudo_command[@]}" apt-get install -y -q --no-install-recommends git-secrets minisign gnupg gpgv yamllint shellcheck
  fi
fi
still_missing="$(missing_commands)"
[ -z "$still_missing" ] || { echo "code-integrity: could not install: $still_missing" >&2; exit 1; }

if [ ! -x "$tools_dir/node_modules/.bin/action-validator" ] \
  || ! grep -q "\"version\": \"$action_validator_version\"" "$tools_dir/node_modules/@action-validator/core/package.json" 2>/dev/null; then
  mkdir -p "$tools_dir"
  npm install --prefix "$tools_dir" --no-save --no-audit --no-fund --ignore-scripts \
    "@action-validator/cli@$action_validator_version" "@action-validator/core@$action_validator_version"
fi
export ACTION_VALIDATOR="$tools_dir/node_modules/.bin/action-validator"
"$ACTION_VALIDATOR" --help >/dev/null 2>&1 || { echo "code-integrity: action-validator does not run" >&2; exit 1; }

echo "== code-integrity: secret scan (tree and history)"
bash scripts/secret-scan.sh

echo "== code-integrity: lockfile policy"
bash scripts/lockfile-check.sh

echo "== code-integrity: SBOM"
sbom_dir="$(mktemp -d)"
trap 'rm -rf "$sbom_dir"' EXIT
bash scripts/sbom.sh "$sbom_dir/sbom.cdx.json"
