#!/usr/bin/env bash
# Secret scan: the working tree (tracked and untracked, not ignored files) and the whole git history
# (every ref), with git-secrets and the patterns of scripts/secret-patterns.txt, plus a
# high-entropy check of credential-shaped JSON ("access_token"/"refresh_token"/"api_key"… values).
#
# usage: scripts/secret-scan.sh [--tree | --history | --staged] [REPO_DIR]
#   (no mode)   tree and history          --staged   the index only (the pre-commit hook)
#
# Allowlist: the repository's `.gitallowed` (git-secrets' own file): one extended regex per line,
# matched against a finding's line: `path:line:text` in the tree, `commit:path:line:text` in
# history. Keep entries narrow (a fixture path plus the fake value), never a bare prefix.
#
# Why git-secrets: a maintained scanner packaged by Debian (no network needed), which scans
# history too. Patterns are passed through GIT_CONFIG_* environment variables, so the scan never
# writes to the repository's git config. gitleaks runs as well in .github/workflows/secret-scan.yml.
#
# Exit codes: 0 clean, 1 secret found, 2 usage or setup error.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
patterns_file="${SECRET_SCAN_PATTERNS:-$script_dir/secret-patterns.txt}"
mode="all"
repository_dir="."
for argument in "$@"; do
  case "$argument" in
    --tree) mode="tree" ;;
    --history) mode="history" ;;
    --staged) mode="staged" ;;
    -h|--help) echo "usage: secret-scan.sh [--tree | --history | --staged] [REPO_DIR]"; exit 0 ;;
    -*) echo "secret-scan: unknown option $argument" >&2; exit 2 ;;
    *) repository_dir="$argument" ;;
  esac
done

if ! command -v git-secrets >/dev/null 2>&1; then
  echo "secret-scan: git-secrets is not installed (Debian/Ubuntu: apt-get install git-secrets; macOS: brew install git-secrets)" >&2
  exit 2
fi
[ -f "$patterns_file" ] || { echo "secret-scan: patterns file not found: $patterns_file" >&2; exit 2; }
cd "$repository_dir"
top="$(git rev-parse --show-toplevel 2>/dev/null)" || { echo "secret-scan: not a git repository: $repository_dir" >&2; exit 2; }
cd "$top"

# Hand the patterns to git-secrets as configuration that lives only in this process's environment.
export GIT_CONFIG_COUNT=0
add_git_config() {
  local index="$GIT_CONFIG_COUNT"
  export "GIT_CONFIG_KEY_${index}=$1" "GIT_CONFIG_VALUE_${index}=$2"
  export GIT_CONFIG_COUNT=$((index + 1))
}
pattern_count=0
while IFS= read -r pattern || [ -n "$pattern" ]; do
  case "$pattern" in ''|'#'*) continue ;; esac
  if [[ "$pattern" =~ [[:space:]] ]]; then
    echo "secret-scan: pattern contains whitespace (git-secrets would split it): $pattern" >&2
    exit 2
  fi
  add_git_config secrets.patterns "$pattern"
  pattern_count=$((pattern_count + 1))
done <"$patterns_file"
[ "$pattern_count" -gt 0 ] || { echo "secret-scan: no patterns in $patterns_file" >&2; exit 2; }

allowlist=""
if [ -f .gitallowed ]; then allowlist="$(awk 'NF && $1 !~ /^#/' .gitallowed)"; fi

# Credential-shaped JSON: the field names tokens and keys travel under in auth files.
json_credential='"(access_token|refresh_token|id_token|api_key|apiKey|client_secret|private_key)"[[:space:]]*:[[:space:]]*"[A-Za-z0-9._~+/=-]{20,}"'

# Prints the lines (`[commit:]path:line:text`) whose credential value looks random: Shannon entropy
# of at least 3.8 bits per character (random base64 of 20+ characters scores about 4 or more; words
# such as "test-access-token-for-fixture" about 3.5), or 32+ hex digits scoring 3.0 or more.
high_entropy_lines() {
  # awk gets the pattern without the {20,} bound (old mawk lacks intervals); length is checked below.
  awk -v pattern="${json_credential%\{20,\}\"}+\"" '
    function entropy(text,   size, index_, character, counts, bits, share) {
      size = length(text); split("", counts)
      for (index_ = 1; index_ <= size; index_++) counts[substr(text, index_, 1)]++
      bits = 0
      for (character in counts) { share = counts[character] / size; bits -= share * log(share) / log(2) }
      return bits
    }
    {
      rest = $0
      while (match(rest, pattern)) {
        found = substr(rest, RSTART, RLENGTH)
        rest = substr(rest, RSTART + RLENGTH)
        sub(/^"[^"]*"[[:space:]]*:[[:space:]]*"/, "", found); sub(/"$/, "", found)
        if (length(found) < 20) continue
        score = entropy(found)
        if ((found ~ /^[0-9a-fA-F]+$/ && length(found) >= 32 && score >= 3.0) || score >= 3.8) { print; next }
      }
    }'
}

# Filters out allowlisted lines; prints what is left.
without_allowed() {
  if [ -n "$allowlist" ]; then LC_ALL=C grep -Ev -- "$allowlist" || true; else cat; fi
}

status=0
report() {
  echo "secret-scan: $1" >&2
  printf '%s\n' "$2" | awk '{ print "  " $0 }' >&2
  status=1
}

entropy_scan_tree() {
  local findings
  findings="$(LC_ALL=C git grep -nIE --untracked "$json_credential" | high_entropy_lines | without_allowed)" || true
  [ -z "$findings" ] || report "high-entropy credential values in the working tree:" "$findings"
}

entropy_scan_staged() {
  local findings
  findings="$(LC_ALL=C git grep -nIE --cached "$json_credential" | high_entropy_lines | without_allowed)" || true
  [ -z "$findings" ] || report "high-entropy credential values in staged files:" "$findings"
}

entropy_scan_history() {
  local revisions findings
  revisions="$(git log --all -G"$json_credential" --pretty=%H)" || true
  [ -n "$revisions" ] || return 0
  # shellcheck disable=SC2086 # one argument per revision
  findings="$(LC_ALL=C git grep -nIE "$json_credential" $revisions | high_entropy_lines | without_allowed)" || true
  [ -z "$findings" ] || report "high-entropy credential values in git history:" "$findings"
}

if [ "$mode" = "tree" ] || [ "$mode" = "all" ]; then
  echo "secret-scan: working tree (${pattern_count} patterns)"
  git secrets --scan --untracked || status=1
  entropy_scan_tree
fi
if [ "$mode" = "history" ] || [ "$mode" = "all" ]; then
  if git rev-parse --verify --quiet HEAD >/dev/null; then
    echo "secret-scan: history ($(git rev-list --all | wc -l | tr -d ' ') commits)"
    git secrets --scan-history || status=1
    entropy_scan_history
  fi
fi
if [ "$mode" = "staged" ]; then
  echo "secret-scan: staged changes"
  git secrets --scan --cached || status=1
  entropy_scan_staged
fi

if [ "$status" -ne 0 ]; then
  echo "secret-scan: FAILED. Remove the secret (and rotate it: it is exposed). For a test fixture, add a narrow line to .gitallowed." >&2
  exit 1
fi
echo "secret-scan: OK"
