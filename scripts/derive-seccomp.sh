#!/usr/bin/env bash
# Regenerates deploy/seccomp-profile.json from what the real server does, then proves the new
# profile by running the same workload in the container under it.
#
#   scripts/derive-seccomp.sh            write deploy/seccomp-profile.json
#   scripts/derive-seccomp.sh --check    derive into a temp file; fail if the committed profile
#                                        lacks a call the server was seen making
#
# Needs (Debian): strace, podman, runc, python3; run as root (podman, chown of the volumes).
# Traces, in order:
#   1. the workload driver against the server on the host (scripts/seccomp/exercise-server.mjs):
#      both client formats, streaming, failover, refused and DNS-named upstreams, abort, bad
#      input, hot reload and a load run of 2000 requests at concurrency 32; at start the audit key
#      created (link(2) of createPrivateFileExclusive) and a stale audit lock broken;
#   2. the same workload against the server in the assembled rootfs under podman + runc with the
#      deployment posture and podman's default profile: adds what runc init does between
#      installing the filter and exec'ing node (fstatfs, getdents64 on runc 1.1.5) and anything
#      node does differently in the container;
#   3. the e2e suite of the built binary (test/e2e): first start (key file creation, chmod,
#      rename, fsync), invalid config, refused bind, hot reload of config and keys.
# scripts/seccomp/strace-to-profile.py keeps only the server's threads and runc init after the
# filter install, adds exit/exit_group/rt_sigreturn, fdatasync beside fsync and the aarch64 names,
# and writes the profile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode="write"
[[ "${1:-}" == --check ]] && mode=check

for tool in strace podman runc python3; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found (bash .ci/steps/container.sh installs it)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
profile=deploy/seccomp-profile.json
[[ $mode == check ]] && profile=$work/derived-profile.json

echo "== build and assemble the rootfs"
npm run build --silent
SKIP_BUILD=1 scripts/build-rootfs.sh "$work/rootfs"

echo "== trace 1/3: workload against the server on the host"
node scripts/seccomp/exercise-server.mjs --trace "$work/host.trace"
echo "== trace 2/3: workload against the server in the container (podman default profile)"
node scripts/seccomp/exercise-server.mjs --trace "$work/container.trace" --container "$work/rootfs"
echo "== trace 3/3: the e2e suite of the built binary"
strace -f -qq -s 256 -o "$work/e2e.trace" node node_modules/vitest/vitest.mjs run test/e2e >"$work/e2e.log" 2>&1 \
  || { tail -40 "$work/e2e.log" >&2; echo "$0: the e2e suite failed under strace" >&2; exit 1; }

echo "== derive"
python3 scripts/seccomp/strace-to-profile.py --out "$profile" \
  --host-trace "$work/host.trace" --host-trace "$work/e2e.trace" --container-trace "$work/container.trace"

echo "== verify: the workload in the container under the derived profile"
node scripts/seccomp/exercise-server.mjs --trace "$work/verify.trace" --container "$work/rootfs" --seccomp "$profile" --requests 500

if [[ $mode == check ]]; then
  missing=$(python3 - "$profile" deploy/seccomp-profile.json <<'PY'
import json, sys
derived = set(json.load(open(sys.argv[1]))['syscalls'][0]['names'])
committed = set(json.load(open(sys.argv[2]))['syscalls'][0]['names'])
print(' '.join(sorted(derived - committed)))
PY
)
  if [[ -n "$missing" ]]; then
    echo "$0: deploy/seccomp-profile.json lacks calls the server makes: $missing (run $0 to regenerate)" >&2
    exit 1
  fi
  echo "deploy/seccomp-profile.json covers every call seen"
fi
