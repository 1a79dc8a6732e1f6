#!/usr/bin/env bash
# Installs the real coding clients that test/real-clients/ runs through the built gateway, at pinned
# versions, OUTSIDE the repository (they are test tools, not dependencies of the proxy; the
# repository's package.json and lockfile stay untouched). Idempotent: a pinned version already in
# place is kept.
#
# Claude Code: the npm package @anthropic-ai/claude-code is a wrapper whose postinstall copies a
# native binary out of a per-platform optional dependency. Only that platform package is installed
# here (@anthropic-ai/claude-code-<os>-<arch>[-musl]), with --ignore-scripts: the binary ships inside
# the registry tarball, so nothing is downloaded at install or run time beyond the npm registry.
#
# Where: ${REAL_CLIENTS_TOOLS:-$HOME/.cache/cliproxyapi-ci-tools}/claude-code-<version>/, which is
# where the tests look (test/real-clients/clients.ts reads the same variable).
# Codex CLI and Gemini CLI join here with their own pinned block when the surfaces they speak
# (Responses API, /v1beta) exist.
set -euo pipefail

claude_code_version="2.1.332"
tools_dir="${REAL_CLIENTS_TOOLS:-${HOME}/.cache/cliproxyapi-ci-tools}"

platform_suffix() {
  local os arch libc=""
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) echo "real-clients: unsupported OS $(uname -s)" >&2; return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "real-clients: unsupported CPU $(uname -m)" >&2; return 1 ;;
  esac
  if [ "$os" = linux ] && ldd --version 2>&1 | grep -qi musl; then libc="-musl"; fi
  printf '%s-%s%s' "$os" "$arch" "$libc"
}

suffix="$(platform_suffix)"
package="@anthropic-ai/claude-code-${suffix}"
install_dir="${tools_dir}/claude-code-${claude_code_version}"
binary="${install_dir}/node_modules/${package}/claude"

if [ ! -x "$binary" ]; then
  echo "== real-clients: installing ${package}@${claude_code_version} into ${install_dir}"
  rm -rf "$install_dir"
  mkdir -p "$install_dir"
  npm install --prefix "$install_dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
    "${package}@${claude_code_version}"
fi

# Prove it runs offline, with nothing from the real home: --version reads no network.
scratch_home="$(mktemp -d)"
trap 'rm -rf "$scratch_home"' EXIT
reported="$(env -i PATH=/usr/bin:/bin HOME="$scratch_home" CLAUDE_CONFIG_DIR="$scratch_home/.claude" \
  DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
  timeout 60 "$binary" --version)"
case "$reported" in
  "${claude_code_version} "*) echo "== real-clients: Claude Code ${reported} at ${binary}" ;;
  *) echo "real-clients: ${binary} reports '${reported}', expected ${claude_code_version}" >&2; exit 1 ;;
esac
