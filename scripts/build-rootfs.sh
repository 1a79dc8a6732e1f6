#!/usr/bin/env bash
# Assembles the runtime root filesystem of the container: the same tree the Dockerfile's runtime
# stage ships, built from this machine's Node instead of a registry image, so the hardened posture
# (read-only, non-root, seccomp) can be proven with podman + runc where no Docker engine or Docker
# Hub is reachable.
#
#   scripts/build-rootfs.sh OUTPUT_DIR
#
# Environment:
#   NODE_BINARY   the Node executable to ship (default: `command -v node`)
#   SKIP_BUILD=1  use the existing dist/ instead of running `npm run build`
#
# Layout (mirrors distroless nodejs22-debian12, so one HEALTHCHECK and one ENTRYPOINT fit both):
#   /nodejs/bin/node            the Node binary; its shared libraries at the paths ldd reports
#   /app/{dist,node_modules,package.json,package-lock.json}   production dependencies only (npm ci
#                               --omit=dev); the lockfile they were installed from, read-only, so
#                               `doctor` in the container can compare them (installation-lockfile)
#   /etc/ssl/certs/ca-certificates.crt     CA bundle for upstream TLS
#   /etc/passwd, /etc/group     root and nobody/nogroup (65534) only
#   /tmp                        1777: a tmpfs mounted there takes this mode (see deployment.md)
#   /config /auths /logs        mount points, owned by 65534
# No shell, no package manager, no coreutils: nothing to exec after a compromise.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTPUT_DIR" >&2
  exit 2
fi
output=$1
root=$(cd "$(dirname "$0")/.." && pwd)
node_binary=${NODE_BINARY:-$(command -v node)}
node_binary=$(readlink -f "$node_binary")

if [[ -e "$output" && -n "$(ls -A "$output" 2>/dev/null)" ]]; then
  echo "$0: $output exists and is not empty; refusing to overwrite" >&2
  exit 1
fi
mkdir -p "$output"
output=$(cd "$output" && pwd)

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$root" && npm run build --silent)
fi
[[ -f "$root/dist/cli/main.js" ]] || { echo "$0: $root/dist/cli/main.js missing; run npm run build" >&2; exit 1; }

# 1. The application: production dependencies from the lockfile, no install scripts, no dev deps.
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp "$root/package.json" "$root/package-lock.json" "$staging/"
(cd "$staging" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)
mkdir -p "$output/app"
cp "$root/package.json" "$root/package-lock.json" "$output/app/"
cp -R "$root/dist" "$output/app/dist"
cp -R "$staging/node_modules" "$output/app/node_modules"
# Test files and source maps are not needed at run time.
find "$output/app/dist" \( -name '*.test.js' -o -name '*.test.d.ts' -o -name '*.map' \) -delete

# 2. Node and exactly the shared libraries it links (including the dynamic loader).
mkdir -p "$output/nodejs/bin"
cp "$node_binary" "$output/nodejs/bin/node"
ldd "$node_binary" | awk '/=> \//{print $3} /^[ \t]*\/[^ ]+ \(/{print $1}' | sort -u | while read -r library; do
  real=$(readlink -f "$library")
  mkdir -p "$output$(dirname "$library")"
  cp "$real" "$output$library"
done
# glibc resolves host names through NSS; `files` + `dns` are built into libc for hosts lookups.
for library in /lib/*-linux-gnu/libnss_dns.so.2 /lib/*-linux-gnu/libnss_files.so.2 /lib/*-linux-gnu/libresolv.so.2; do
  [[ -e "$library" ]] || continue
  mkdir -p "$output$(dirname "$library")"
  cp "$(readlink -f "$library")" "$output$library"
done

# 3. System files: CA bundle, users, name service config. Nothing else from /etc.
mkdir -p "$output/etc/ssl/certs"
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  cp /etc/ssl/certs/ca-certificates.crt "$output/etc/ssl/certs/ca-certificates.crt"
else
  echo "$0: /etc/ssl/certs/ca-certificates.crt missing (install ca-certificates)" >&2
  exit 1
fi
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$output/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$output/etc/group"
printf 'hosts: files dns\n' >"$output/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$output/etc/hosts"
: >"$output/etc/resolv.conf"   # the runtime bind-mounts its own

# 4. Mount points and /tmp. Everything else is root-owned and not writable by 65534.
mkdir -p "$output/tmp" "$output/config" "$output/auths" "$output/logs" "$output/proc" "$output/dev" "$output/sys"
chmod 1777 "$output/tmp"
chmod 0700 "$output/auths" "$output/logs"
chmod 0755 "$output/config"
chmod -R go-w "$output/app" "$output/nodejs" "$output/etc"
if [[ $(id -u) -eq 0 ]]; then
  chown 65534:65534 "$output/config" "$output/auths" "$output/logs"
  chown -R 0:0 "$output/app" "$output/nodejs" "$output/etc"
else
  echo "$0: not root: files keep uid $(id -u); the image build (deploy/Dockerfile) sets the real owners" >&2
fi

if [[ -e "$output/bin/sh" || -e "$output/usr/bin/sh" ]]; then
  echo "$0: a shell ended up in the rootfs" >&2
  exit 1
fi
size_kib=$(du -sk "$output" | cut -f1)
echo "rootfs: $output ($((size_kib / 1024)) MiB, node $("$node_binary" --version))"
