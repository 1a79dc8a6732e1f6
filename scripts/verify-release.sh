#!/usr/bin/env bash
# Verifies a downloaded release: first the signature of SHA256SUMS (minisign or gpg), then every
# artifact against SHA256SUMS. The checksum file is trusted only after its signature verified.
#
# usage: scripts/verify-release.sh (--minisign-pubkey FILE | --gpg-keyring FILE) [--version VERSION] DIR
#   --minisign-pubkey  the project's minisign public key (docs/security/releases.md says where)
#   --gpg-keyring      a keyring file holding the project's gpg public key (`gpg --export KEYID > FILE`)
#   --version          also require the signed trusted comment to name this version, so a genuine
#                      but older SHA256SUMS (a rollback to a vulnerable release) is refused
#
# Strict on purpose: a malformed SHA256SUMS line, a name with a path in it, a listed artifact that is
# missing, or any mismatch fails. Files in DIR that SHA256SUMS does not list are reported (they are
# not part of the signed release) but do not fail, so a download folder with other files still works.
#
# Exit codes: 0 verified, 1 verification failed, 2 usage error.
set -euo pipefail

minisign_pubkey=""
gpg_keyring=""
version=""
release_dir=""
usage_error() { echo "verify-release: $*" >&2; exit 2; }
fail() { echo "verify-release: FAILED: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --minisign-pubkey) [ $# -ge 2 ] || usage_error "--minisign-pubkey needs a file"; minisign_pubkey="$2"; shift 2 ;;
    --gpg-keyring) [ $# -ge 2 ] || usage_error "--gpg-keyring needs a file"; gpg_keyring="$2"; shift 2 ;;
    --version) [ $# -ge 2 ] || usage_error "--version needs a value"; version="$2"; shift 2 ;;
    -*) usage_error "unknown option $1" ;;
    *) [ -z "$release_dir" ] || usage_error "only one release directory"; release_dir="$1"; shift ;;
  esac
done
[ -n "$release_dir" ] || usage_error "usage: verify-release.sh (--minisign-pubkey FILE | --gpg-keyring FILE) [--version VERSION] DIR"
[ -n "$minisign_pubkey" ] || [ -n "$gpg_keyring" ] || usage_error "pass --minisign-pubkey FILE or --gpg-keyring FILE"
[ -d "$release_dir" ] || usage_error "not a directory: $release_dir"
absolute() { (cd "$(dirname "$1")" && printf '%s/%s' "$(pwd)" "$(basename "$1")"); }
[ -z "$minisign_pubkey" ] || { [ -f "$minisign_pubkey" ] || usage_error "public key not found: $minisign_pubkey"; minisign_pubkey="$(absolute "$minisign_pubkey")"; }
[ -z "$gpg_keyring" ] || { [ -f "$gpg_keyring" ] || usage_error "keyring not found: $gpg_keyring"; gpg_keyring="$(absolute "$gpg_keyring")"; }

cd "$release_dir"
[ -s SHA256SUMS ] || fail "SHA256SUMS is missing or empty"

# 1. The signature over SHA256SUMS.
if [ -n "$minisign_pubkey" ]; then
  command -v minisign >/dev/null || usage_error "minisign is not installed (apt-get install minisign / brew install minisign)"
  [ -f SHA256SUMS.minisig ] || fail "SHA256SUMS.minisig is missing"
  # -Q prints only the trusted comment, which is covered by the signature too.
  trusted_comment="$(minisign -V -Q -p "$minisign_pubkey" -m SHA256SUMS -x SHA256SUMS.minisig 2>/dev/null)" \
    || fail "minisign signature of SHA256SUMS does not verify with $(basename "$minisign_pubkey")"
  echo "verify-release: minisign signature OK (trusted comment: $trusted_comment)"
  if [ -n "$version" ] && [ "$trusted_comment" != "cliproxyapi $version SHA256SUMS" ]; then
    fail "signed trusted comment is \"$trusted_comment\", expected \"cliproxyapi $version SHA256SUMS\" (wrong or rolled-back release)"
  fi
fi
if [ -n "$gpg_keyring" ]; then
  command -v gpgv >/dev/null || usage_error "gpgv is not installed"
  [ -f SHA256SUMS.asc ] || fail "SHA256SUMS.asc is missing"
  gpgv --keyring "$gpg_keyring" SHA256SUMS.asc SHA256SUMS 2>/dev/null || fail "gpg signature of SHA256SUMS does not verify with $(basename "$gpg_keyring")"
  echo "verify-release: gpg signature OK"
  [ -z "$version" ] || [ -n "$minisign_pubkey" ] || echo "verify-release: note: --version is checked against the minisign trusted comment only"
fi

# 2. Every artifact against the (now trusted) checksum file.
sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum -- "$1" | cut -d ' ' -f 1; else shasum -a 256 -- "$1" | cut -d ' ' -f 1; fi
}
listed=()
line_number=0
while IFS= read -r line || [ -n "$line" ]; do
  line_number=$((line_number + 1))
  [[ "$line" =~ ^([0-9a-f]{64})\ \ ([A-Za-z0-9._+][A-Za-z0-9._+-]*)$ ]] || fail "SHA256SUMS line $line_number is malformed"
  expected="${BASH_REMATCH[1]}"
  name="${BASH_REMATCH[2]}"
  [ -f "$name" ] || fail "$name is listed in SHA256SUMS but missing"
  actual="$(sha256_of "$name")"
  [ "$actual" = "$expected" ] || fail "$name does not match SHA256SUMS (expected $expected, got $actual)"
  echo "verify-release: $name OK"
  listed+=("$name")
done <SHA256SUMS
[ ${#listed[@]} -gt 0 ] || fail "SHA256SUMS lists no artifacts"

while IFS= read -r -d '' path; do
  name="${path#./}"
  case "$name" in SHA256SUMS|SHA256SUMS.minisig|SHA256SUMS.asc) continue ;; esac
  printf '%s\n' "${listed[@]}" | grep -Fxq -- "$name" || echo "verify-release: note: $name is not listed in SHA256SUMS (not part of the signed release)"
done < <(find . -mindepth 1 -maxdepth 1 -type f -print0)

echo "verify-release: OK: ${#listed[@]} artifact(s) verified"
