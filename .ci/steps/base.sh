#!/usr/bin/env bash
# Debian packages the test suite needs on every machine: redis-server (the Redis state backend's
# tests start their own server on a free loopback port). Idempotent and non-interactive.
set -euo pipefail
packages=(redis-server)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian starts a system redis on :6379 after install; the tests use their own servers.
if command -v systemctl >/dev/null 2>&1; then systemctl stop redis-server >/dev/null 2>&1 || true; fi
