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
# Gemini CLI: @google/gemini-cli ships one bundled script (bundle/gemini.js, its `bin`); installed
# with --ignore-scripts (its optional native dependencies, node-pty and keytar, are not needed for a
# `-p` run), at ${tools_dir}/gemini-cli-<version>/ (test/real-clients/clients.ts looks there).
# Codex CLI: its own pinned block below.
set -euo pipefail

claude_code_version="2.1.332"
gemini_cli_version="0.61.0"
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

# Codex CLI: the npm package @openai/codex is a JavaScript launcher whose per-platform native binary
# ships as a version of the same package (`@openai/codex@<version>-<os>-<arch>`, a static musl build
# on Linux), listed as an optional dependency. Only that platform version is installed, with
# --ignore-scripts; the binary is inside the registry tarball, so nothing else is downloaded.
codex_version="0.171.0"
codex_platform="$(printf '%s' "$suffix" | sed 's/-musl$//')"
case "$codex_platform" in
  linux-x64) codex_triple=x86_64-unknown-linux-musl ;;
  linux-arm64) codex_triple=aarch64-unknown-linux-musl ;;
  darwin-x64) codex_triple=x86_64-apple-darwin ;;
  darwin-arm64) codex_triple=aarch64-apple-darwin ;;
  *) echo "real-clients: no Codex CLI build for ${codex_platform}" >&2; exit 1 ;;
esac
codex_dir="${tools_dir}/codex-${codex_version}"
codex_binary="${codex_dir}/node_modules/@openai/codex/vendor/${codex_triple}/bin/codex"

if [ ! -x "$codex_binary" ]; then
  echo "== real-clients: installing @openai/codex@${codex_version}-${codex_platform} into ${codex_dir}"
  rm -rf "$codex_dir"
  mkdir -p "$codex_dir"
  npm install --prefix "$codex_dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
    "@openai/codex@${codex_version}-${codex_platform}"
fi

mkdir -p "$scratch_home/.codex"
codex_reported="$(env -i PATH=/usr/bin:/bin HOME="$scratch_home" CODEX_HOME="$scratch_home/.codex" timeout 60 "$codex_binary" --version)"
case "$codex_reported" in
  "codex-cli ${codex_version}") echo "== real-clients: ${codex_reported} at ${codex_binary}" ;;
  *) echo "real-clients: ${codex_binary} reports '${codex_reported}', expected codex-cli ${codex_version}" >&2; exit 1 ;;
esac

gemini_dir="${tools_dir}/gemini-cli-${gemini_cli_version}"
gemini_script="${gemini_dir}/node_modules/@google/gemini-cli/bundle/gemini.js"
if [ ! -f "$gemini_script" ]; then
  echo "== real-clients: installing @google/gemini-cli@${gemini_cli_version} into ${gemini_dir}"
  rm -rf "$gemini_dir"
  mkdir -p "$gemini_dir"
  npm install --prefix "$gemini_dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
    "@google/gemini-cli@${gemini_cli_version}"
fi
gemini_reported="$(env -i PATH="$(dirname "$(command -v node)"):/usr/bin:/bin" HOME="$scratch_home" \
  timeout 60 node "$gemini_script" --version)"
case "$gemini_reported" in
  "${gemini_cli_version}") echo "== real-clients: Gemini CLI ${gemini_reported} at ${gemini_script}" ;;
  *) echo "real-clients: ${gemini_script} reports '${gemini_reported}', expected ${gemini_cli_version}" >&2; exit 1 ;;
esac
