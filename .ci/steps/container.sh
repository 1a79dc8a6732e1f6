#!/usr/bin/env bash
# Installs what test/container/ and scripts/derive-seccomp.sh need: podman with runc (crun fails
# on this kind of machine: cgroups hybrid mode; the tests pass --runtime runc), strace, CA
# certificates for the rootfs, iproute2 for `ss`, python3 for the profile helper. Idempotent:
# installs only what is missing. With recommends: that is the podman set the tests were proven on.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

needed=()
command -v podman >/dev/null || needed+=(podman)
command -v runc >/dev/null || needed+=(runc)
command -v strace >/dev/null || needed+=(strace)
command -v ss >/dev/null || needed+=(iproute2)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || needed+=(ca-certificates)
command -v python3 >/dev/null || needed+=(python3)

if ((${#needed[@]} > 0)); then
  echo "== container step: installing ${needed[*]}"
  apt-get update -qq
  apt-get install -y -qq "${needed[@]}" >/dev/null
fi
echo "== container step: $(podman --version), $(runc --version | head -1), $(strace -V | head -1)"
