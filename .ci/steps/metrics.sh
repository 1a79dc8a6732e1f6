#!/usr/bin/env bash
# Installs promtool (Debian package `prometheus`) for the metrics tests (`promtool check metrics`
# over the gateway's /metrics exposition). Idempotent: nothing happens when promtool is on PATH.
# Debian starts a prometheus service on :9090 after install where systemd runs; the tests need only
# the promtool binary, so the service is stopped.
set -euo pipefail
if ! command -v promtool >/dev/null 2>&1; then
  echo "== metrics step: installing prometheus (for promtool)"
  export DEBIAN_FRONTEND=noninteractive
  sudo_command=()
  if [ "$(id -u)" -ne 0 ]; then sudo_command=(sudo -n); fi
  "${sudo_command[@]}" apt-get update -qq
  "${sudo_command[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if command -v systemctl >/dev/null 2>&1; then "${sudo_command[@]}" systemctl stop prometheus >/dev/null 2>&1 || true; fi
fi
echo "== metrics step: $(promtool --version 2>&1 | head -1)"
