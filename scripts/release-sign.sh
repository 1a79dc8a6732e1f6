#!/usr/bin/env bash
# Signs a release: writes DIR/SHA256SUMS over every artifact in DIR, then a detached signature of
# that checksum file: DIR/SHA256SUMS.minisig (minisign) and/or DIR/SHA256SUMS.asc (gpg).
#
# usage: scripts/release-sign.sh [--minisign-key FILE] [--gpg-key KEYID] [--version VERSION] DIR
#   --minisign-key  minisign secret key (default: $MINISIGN_SECRET_KEY_FILE). Its password, if the
#                   key has one, is read from $MINISIGN_PASSWORD (never from the command line, where
#                   `ps` would show it).
#   --gpg-key       also sign with this gpg key (passphrase, if any, from $GPG_PASSPHRASE).
#   --version       release version, written into minisign's signed "trusted comment" so that
#                   scripts/verify-release.sh --version can refuse an older release's checksums
#                   (a rollback) even though their signature is genuine.
#
# Why sign the checksum file rather than each artifact: one signature covers the tarball, the SBOM
# and anything added later; users check the signature once, then `sha256sum -c`.
# Only regular files directly in DIR are artifacts; names must be plain (no "/", no leading "-"),
# so the checksum file cannot point outside the release directory.
set -euo pipefail

minisign_key="${MINISIGN_SECRET_KEY_FILE:-}"
gpg_key=""
version=""
release_dir=""
fail() { echo "release-sign: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --minisign-key) [ $# -ge 2 ] || fail "--minisign-key needs a file"; minisign_key="$2"; shift 2 ;;
    --gpg-key) [ $# -ge 2 ] || fail "--gpg-key needs a key id"; gpg_key="$2"; shift 2 ;;
    --version) [ $# -ge 2 ] || fail "--version needs a value"; version="$2"; shift 2 ;;
    -*) fail "unknown option $1" ;;
    *) [ -z "$release_dir" ] || fail "only one release directory"; release_dir="$1"; shift ;;
  esac
done
[ -n "$release_dir" ] || fail "usage: release-sign.sh [--minisign-key FILE] [--gpg-key KEYID] [--version VERSION] DIR"
[ -d "$release_dir" ] || fail "not a directory: $release_dir"
[ -n "$minisign_key" ] || [ -n "$gpg_key" ] || fail "no signing key: pass --minisign-key FILE (or set MINISIGN_SECRET_KEY_FILE) and/or --gpg-key KEYID"
if [ -n "$minisign_key" ]; then
  [ -f "$minisign_key" ] || fail "minisign key not found: $minisign_key"
  minisign_key="$(cd "$(dirname "$minisign_key")" && pwd)/$(basename "$minisign_key")"
  command -v minisign >/dev/null || fail "minisign is not installed (apt-get install minisign / brew install minisign)"
fi
if [ -n "$version" ] && ! [[ "$version" =~ ^[A-Za-z0-9._+-]+$ ]]; then fail "version has unexpected characters: $version"; fi

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum -- "$1" | cut -d ' ' -f 1; else shasum -a 256 -- "$1" | cut -d ' ' -f 1; fi
}

cd "$release_dir"
rm -f SHA256SUMS SHA256SUMS.minisig SHA256SUMS.asc
artifacts=()
while IFS= read -r -d '' path; do
  name="${path#./}"
  [[ "$name" =~ ^[A-Za-z0-9._+][A-Za-z0-9._+-]*$ ]] || fail "artifact name not allowed (plain names only): $name"
  artifacts+=("$name")
done < <(find . -mindepth 1 -maxdepth 1 -type f -print0 | LC_ALL=C sort -z)
[ ${#artifacts[@]} -gt 0 ] || fail "no artifacts in $release_dir"
if find . -mindepth 1 -maxdepth 1 ! -type f | grep -q .; then fail "only regular files may be in the release directory"; fi

for name in "${artifacts[@]}"; do
  printf '%s  %s\n' "$(sha256_of "$name")" "$name"
done >SHA256SUMS
echo "release-sign: SHA256SUMS lists ${#artifacts[@]} artifact(s)"

if [ -n "$minisign_key" ]; then
  trusted_comment="cliproxyapi ${version:-unversioned} SHA256SUMS"
  if [ -n "${MINISIGN_PASSWORD:-}" ]; then
    printf '%s\n' "$MINISIGN_PASSWORD" | minisign -S -s "$minisign_key" -m SHA256SUMS -x SHA256SUMS.minisig -t "$trusted_comment" >/dev/null
  else
    minisign -S -s "$minisign_key" -m SHA256SUMS -x SHA256SUMS.minisig -t "$trusted_comment" </dev/null >/dev/null
  fi
  echo "release-sign: wrote SHA256SUMS.minisig (trusted comment: $trusted_comment)"
fi

if [ -n "$gpg_key" ]; then
  command -v gpg >/dev/null || fail "gpg is not installed"
  gpg_options=(--batch --yes --local-user "$gpg_key" --armor --detach-sign --output SHA256SUMS.asc)
  if [ -n "${GPG_PASSPHRASE:-}" ]; then
    printf '%s\n' "$GPG_PASSPHRASE" | gpg "${gpg_options[@]}" --pinentry-mode loopback --passphrase-fd 0 SHA256SUMS
  else
    gpg "${gpg_options[@]}" SHA256SUMS
  fi
  echo "release-sign: wrote SHA256SUMS.asc (gpg key $gpg_key)"
fi
