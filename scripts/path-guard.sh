#!/usr/bin/env bash
# Path guard: fails when a commit in BASE..HEAD touches a protected path and its author is not
# listed in MAINTAINERS; warns (without failing) whenever translator logic changed, so a reviewer
# looks at the wire-format translation twice.
#
# usage: scripts/path-guard.sh [--maintainers FILE] [--repo DIR] BASE HEAD
#        scripts/path-guard.sh --list-protected
# The maintainer list is MAINTAINERS as of BASE (or --maintainers FILE), never HEAD's copy.
#
# Why author AND path: the translation, credential, provider and security code decide what leaves
# the proxy and with which credentials; a change there by someone outside the maintainer list must
# not merge unnoticed. The author identity of a commit is self-asserted, so this guard is a
# tripwire; the enforcing controls are CODEOWNERS review and branch protection
# (docs/security/code-integrity.md). Merge commits are checked on their combined diff (--cc), so a
# merge from main does not blame the PR author for maintainers' commits, but an "evil merge" that
# edits a protected file while resolving it is still caught.
#
# Exit codes: 0 clean, 1 unauthorized change, 2 usage or setup error.
set -euo pipefail

# Paths ending in "/" are folders (prefix match); others are exact file paths.
PROTECTED_PATHS=(
  src/translate/
  src/credentials/
  src/files/
  src/egress/
  src/oauth/
  src/audit/
  src/management/
  src/metrics/
  src/alerts/
  src/providers/
  src/security/
  src/config/placeholders.ts
  MAINTAINERS
  .github/
  scripts/
  .githooks/
  .gitallowed
)
TRANSLATOR_PATH=src/translate/

maintainers_file=""
repository_dir="."

fail_usage() {
  echo "path-guard: $*" >&2
  echo "usage: path-guard.sh [--maintainers FILE] [--repo DIR] BASE HEAD | --list-protected" >&2
  exit 2
}

positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --list-protected) printf '%s\n' "${PROTECTED_PATHS[@]}"; exit 0 ;;
    --maintainers) [ $# -ge 2 ] || fail_usage "--maintainers needs a file"; maintainers_file="$2"; shift 2 ;;
    --repo) [ $# -ge 2 ] || fail_usage "--repo needs a directory"; repository_dir="$2"; shift 2 ;;
    -h|--help) fail_usage "help" ;;
    -*) fail_usage "unknown option $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -eq 2 ] || fail_usage "expected BASE and HEAD"
base="${positional[0]}"
head="${positional[1]}"

cd "$repository_dir"
git rev-parse --git-dir >/dev/null 2>&1 || fail_usage "not a git repository: $repository_dir"
git rev-parse --verify --quiet "${base}^{commit}" >/dev/null || fail_usage "unknown BASE commit: $base"
git rev-parse --verify --quiet "${head}^{commit}" >/dev/null || fail_usage "unknown HEAD commit: $head"

# The maintainer list comes from BASE, never from the changes under review: otherwise a pull
# request could add its author to MAINTAINERS and approve itself.
if [ -n "$maintainers_file" ]; then
  [ -f "$maintainers_file" ] || fail_usage "maintainers file not found: $maintainers_file"
  maintainers_text="$(cat "$maintainers_file")"
  maintainers_source="$maintainers_file"
else
  maintainers_text="$(git show "${base}:MAINTAINERS" 2>/dev/null)" \
    || fail_usage "MAINTAINERS does not exist at BASE ${base}; pass --maintainers FILE"
  maintainers_source="${base}:MAINTAINERS"
fi

# "name<TAB>lowercased email" per maintainer; blank lines and # comments skipped.
# (A literal tab in the replacement: BSD sed on macOS does not understand "\t".)
tab=$'\t'
maintainer_keys="$(sed -n -E "s/^[[:space:]]*([^#<][^<]*[^[:space:]<])[[:space:]]*<([^>]+)>.*\$/\\1${tab}\\2/p" <<<"$maintainers_text" \
  | awk -F '\t' '{ print $1 "\t" tolower($2) }')"

is_maintainer() {
  local email key
  email="$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')"
  key="$1"$'\t'"$email"
  [ -n "$maintainer_keys" ] && grep -Fxq -- "$key" <<<"$maintainer_keys"
}

is_protected() {
  local path="$1" protected
  for protected in "${PROTECTED_PATHS[@]}"; do
    case "$protected" in
      */) [[ "$path" == "$protected"* ]] && return 0 ;;
      *) [[ "$path" == "$protected" ]] && return 0 ;;
    esac
  done
  return 1
}

# Translator *logic*: tests and recorded fixtures change often and are reviewed as data.
is_translator_logic() {
  local path="$1"
  [[ "$path" == "$TRANSLATOR_PATH"* ]] || return 1
  [[ "$path" == *.test.ts || "$path" == */__fixtures__/* ]] && return 1
  return 0
}

annotate() {
  # GitHub renders ::error::/::warning:: lines as annotations on the pull request.
  local level="$1" message="$2"
  if [ "${GITHUB_ACTIONS:-}" = "true" ]; then echo "::${level}::${message}"; fi
  echo "path-guard: $(printf '%s' "$level" | tr '[:lower:]' '[:upper:]'): ${message}" >&2
}

violations=0
commits=0
translator_changes=()
while IFS= read -r commit; do
  [ -n "$commit" ] || continue
  commits=$((commits + 1))
  author_name="$(git log -1 --format='%an' "$commit")"
  author_email="$(git log -1 --format='%ae' "$commit")"
  protected_hits=()
  while IFS= read -r -d '' path; do
    is_protected "$path" && protected_hits+=("$path")
    is_translator_logic "$path" && translator_changes+=("${commit:0:12} $path")
  done < <(git diff-tree -z --root --no-commit-id --name-only -r --cc --no-renames "$commit")
  if [ ${#protected_hits[@]} -gt 0 ] && ! is_maintainer "$author_name" "$author_email"; then
    violations=$((violations + 1))
    annotate error "commit ${commit:0:12} by ${author_name} <${author_email}> (not in MAINTAINERS) touches protected path(s): ${protected_hits[*]}"
  fi
done < <(git rev-list --reverse "${base}..${head}")

if [ ${#translator_changes[@]} -gt 0 ]; then
  annotate warning "translator logic changed; review the wire-format translation and its fixtures: ${translator_changes[*]}"
fi

if [ "$violations" -gt 0 ]; then
  echo "path-guard: ${violations} of ${commits} commit(s) change protected paths without a maintainer author" >&2
  exit 1
fi
echo "path-guard: OK (${commits} commit(s) checked against $(grep -c . <<<"$maintainer_keys" || true) maintainer(s) of ${maintainers_source})"
