import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The real coding clients the suite runs through the built gateway, one table entry each. An entry
 * says where the pinned binary is (installed by .ci/steps/real-clients.sh outside the repository),
 * how to run it non-interactively with one prompt, aimed at the gateway and kept offline, and which
 * gateway surface it speaks. real-clients.test.ts runs every entry against every upstream kind.
 *
 * Codex CLI (`codex exec`, the Responses API on `/v1/responses`) and Gemini CLI (`gemini -p`, the
 * `/v1beta` surface) each have one entry: a pinned package in real-clients.sh, `locate`, `invocation`.
 */

/** Where real-clients.sh installs the tools; the same variable and default as there. */
export const toolsDirectory = process.env['REAL_CLIENTS_TOOLS'] ?? join(homedir(), '.cache/cliproxyapi-ci-tools');

export interface Invocation {
  args: string[];
  /** The whole environment of the client (nothing is inherited from the test's environment). */
  env: Record<string, string>;
}

export interface InvocationInput {
  /** `http://127.0.0.1:PORT` of the gateway, no trailing slash. */
  gatewayUrl: string;
  clientKey: string;
  model: string;
  prompt: string;
  /** A fresh, empty directory used as HOME (and the client's config directory inside it). */
  home: string;
  /** An HTTP proxy that records and refuses every connection: anything not for the gateway. */
  egressProxyUrl: string;
}

/** The upstream kinds the suite can put behind the gateway (one stub each). */
export type UpstreamKind = 'anthropic' | 'openai' | 'gemini';

export interface RealClient {
  name: string;
  /** The pinned version; real-clients.sh installs exactly this one. */
  version: string;
  /** The model the client asks for; the gateway is configured to serve it. */
  model: string;
  /**
   * The upstream kind speaking the client's own format (its model is served by name, the rest pass
   * through); undefined when no stub upstream speaks it (Codex's Responses API: both are translated).
   */
  nativeUpstream: UpstreamKind | undefined;
  /** The upstream kinds it is run against. */
  upstreams: readonly UpstreamKind[];
  /** The path of the binary, or undefined when it is not installed. */
  locate(): string | undefined;
  /** The version the binary reports, for the check that the pinned one is installed. */
  reportedVersion(binary: string): string | undefined;
  invocation(input: InvocationInput): Invocation;
}

/** Claude Code ships one native binary per platform in its own npm package. */
function claudeCodePlatformPackage(): string | undefined {
  const arch = process.arch === 'x64' || process.arch === 'arm64' ? process.arch : undefined;
  if (arch === undefined) return undefined;
  if (process.platform === 'darwin') return `@anthropic-ai/claude-code-darwin-${arch}`;
  if (process.platform !== 'linux') return undefined;
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  const musl = report.header?.glibcVersionRuntime === undefined;
  return `@anthropic-ai/claude-code-linux-${arch}${musl ? '-musl' : ''}`;
}

const claudeCodeVersion = '2.1.332';

export const claudeCode: RealClient = {
  name: 'Claude Code',
  version: claudeCodeVersion,
  // 2.1.332's default model, asked for explicitly so the run does not depend on the default; its
  // requests carry max_tokens 128000, thinking "adaptive", a system message inside messages.
  model: 'claude-opus-5-5',
  nativeUpstream: 'anthropic',
  upstreams: ['anthropic', 'openai'],
  locate() {
    const platformPackage = claudeCodePlatformPackage();
    if (platformPackage === undefined) return undefined;
    const binary = join(toolsDirectory, `claude-code-${claudeCodeVersion}`, 'node_modules', platformPackage, 'claude');
    return existsSync(binary) ? binary : undefined;
  },
  reportedVersion(binary) {
    const home = mkdtempSync(join(tmpdir(), 'cliproxy-version-probe-'));
    try {
      const result = spawnSync(binary, ['--version'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: '/usr/bin:/bin', HOME: home, CLAUDE_CONFIG_DIR: join(home, '.claude'), DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
      });
      return /^(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1];
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  },
  invocation({ gatewayUrl, clientKey, model, prompt, home, egressProxyUrl }) {
    return {
      // -p: print the answer and exit (non-interactive); it streams from the API all the same.
      args: ['-p', prompt, '--model', model, '--output-format', 'text'],
      env: {
        PATH: '/usr/bin:/bin',
        HOME: home,
        CLAUDE_CONFIG_DIR: join(home, '.claude'),
        ANTHROPIC_BASE_URL: gatewayUrl,
        // Sent as x-api-key: the gateway's client key, never an upstream key.
        ANTHROPIC_API_KEY: clientKey,
        // Background and helper calls (titles, summaries) go to the same model the gateway serves.
        ANTHROPIC_SMALL_FAST_MODEL: model,
        ANTHROPIC_DEFAULT_HAIKU_MODEL: model,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_ERROR_REPORTING: '1',
        DISABLE_BUG_COMMAND: '1',
        // Anything that still tries the network goes to the recording proxy and is refused there.
        // (Without the four DISABLE flags above, 2.1.332 opens three connections to
        // api.anthropic.com:443 during a `-p` run; with them, none.)
        HTTPS_PROXY: egressProxyUrl,
        HTTP_PROXY: egressProxyUrl,
        NO_PROXY: '127.0.0.1,localhost',
        TERM: 'dumb',
        NO_COLOR: '1',
      },
    };
  },
};

/** Codex CLI's npm package ships one native binary per platform as a version of itself (`0.171.0-linux-x64`), a static musl build on Linux. */
function codexPlatform(): { suffix: string; triple: string } | undefined {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined;
  if (arch === undefined) return undefined;
  if (process.platform === 'linux') return { suffix: `linux-${process.arch}`, triple: `${arch}-unknown-linux-musl` };
  if (process.platform === 'darwin') return { suffix: `darwin-${process.arch}`, triple: `${arch}-apple-darwin` };
  return undefined;
}

const codexVersion = '0.171.0';

/**
 * Codex CLI's config for one run: a provider at the gateway speaking the Responses API, its key from
 * an environment variable, and everything that would reach the internet or send a tool a translated
 * request cannot carry turned off: the update check, analytics, web search (a hosted tool), the
 * multi-agent `namespace` tool, apps, plugins, image generation. With these, 0.171.0 sends exactly
 * one request, to the gateway.
 */
function codexConfig(gatewayUrl: string, model: string): string {
  return [
    `model = ${JSON.stringify(model)}`,
    'model_provider = "cliproxy"',
    'web_search = "disabled"',
    'check_for_update_on_startup = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[features]',
    ...['multi_agent', 'apps', 'plugins', 'image_generation', 'in_app_updates', 'goals'].map((feature) => `${feature} = false`),
    '',
    '[model_providers.cliproxy]',
    'name = "cliproxy"',
    `base_url = ${JSON.stringify(`${gatewayUrl}/v1`)}`,
    'env_key = "CLIPROXY_API_KEY"',
    'wire_api = "responses"',
    '',
  ].join('\n');
}

export const codexCli: RealClient = {
  name: 'Codex CLI',
  version: codexVersion,
  // Not an OpenAI model name on purpose: Codex then uses its generic tool set (function tools only).
  model: 'gpt-test-codex',
  nativeUpstream: undefined,
  upstreams: ['openai', 'anthropic'],
  locate() {
    const platform = codexPlatform();
    if (platform === undefined) return undefined;
    const binary = join(toolsDirectory, `codex-${codexVersion}`, 'node_modules', '@openai', 'codex', 'vendor', platform.triple, 'bin', 'codex');
    return existsSync(binary) ? binary : undefined;
  },
  reportedVersion(binary) {
    const home = mkdtempSync(join(tmpdir(), 'cliproxy-version-probe-'));
    try {
      const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000, env: { PATH: '/usr/bin:/bin', HOME: home, CODEX_HOME: join(home, '.codex') } });
      return /codex-cli (\d+\.\d+\.\d+)/.exec(result.stdout)?.[1];
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  },
  invocation({ gatewayUrl, clientKey, model, prompt, home, egressProxyUrl }) {
    const codexHome = join(home, '.codex');
    mkdirSync(codexHome, { recursive: true, mode: 0o700 });
    writeFileSync(join(codexHome, 'config.toml'), codexConfig(gatewayUrl, model), { mode: 0o600 });
    return {
      // exec: one prompt, non-interactive; the answer is printed on stdout. The run's HOME is not a git repository.
      args: ['exec', '--skip-git-repo-check', prompt],
      env: {
        PATH: '/usr/bin:/bin',
        HOME: home,
        CODEX_HOME: codexHome,
        CLIPROXY_API_KEY: clientKey,
        HTTPS_PROXY: egressProxyUrl,
        HTTP_PROXY: egressProxyUrl,
        NO_PROXY: '127.0.0.1,localhost',
        TERM: 'dumb',
        NO_COLOR: '1',
      },
    };
  },
};

/** Every client the suite runs. */
const geminiCliVersion = '0.61.0';

/**
 * The Gemini CLI's settings for a run (`~/.gemini/settings.json` in the temp HOME): API-key auth
 * (`gemini-api-key`, which reads GEMINI_API_KEY and honours GOOGLE_GEMINI_BASE_URL), no usage
 * statistics and no telemetry (without these two, 0.61.0 opens two connections to
 * play.googleapis.com:443 during a `-p` run; with them, none), no auto-update or its notification.
 * A fresh HOME has no extensions, so none load.
 */
const geminiCliSettings = {
  security: { auth: { selectedType: 'gemini-api-key' } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
};

/** The Gemini CLI ships as one bundled Node script (its `bin`), run with the Node running the tests. */
function geminiCliEnvironment(home: string): Record<string, string> {
  return { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, TERM: 'dumb', NO_COLOR: '1' };
}

export const geminiCli: RealClient = {
  name: 'Gemini CLI',
  nativeUpstream: 'gemini',
  upstreams: ['gemini', 'openai', 'anthropic'],
  version: geminiCliVersion,
  // Asked for explicitly so the run does not depend on the default (which changes between versions).
  model: 'gemini-2.5-pro',
  locate() {
    const script = join(toolsDirectory, `gemini-cli-${geminiCliVersion}`, 'node_modules', '@google', 'gemini-cli', 'bundle', 'gemini.js');
    return existsSync(script) ? script : undefined;
  },
  reportedVersion(binary) {
    const home = mkdtempSync(join(tmpdir(), 'cliproxy-version-probe-'));
    try {
      const result = spawnSync(process.execPath, [binary, '--version'], { encoding: 'utf8', timeout: 60_000, env: geminiCliEnvironment(home) });
      return /^(\d+\.\d+\.\d+)/m.exec(result.stdout)?.[1];
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  },
  invocation({ gatewayUrl, clientKey, model, prompt, home, egressProxyUrl }) {
    mkdirSync(join(home, '.gemini'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.gemini', 'settings.json'), JSON.stringify(geminiCliSettings), { mode: 0o600 });
    return {
      // -p: one prompt, print the answer, exit; --skip-trust: the temp directory is not a trusted
      // folder and headless runs refuse untrusted ones (exit 55).
      args: ['-p', prompt, '--model', model, '--skip-trust'],
      env: {
        ...geminiCliEnvironment(home),
        // Sent as x-goog-api-key: the gateway's client key, never an upstream key.
        GEMINI_API_KEY: clientKey,
        GOOGLE_GEMINI_BASE_URL: gatewayUrl,
        HTTPS_PROXY: egressProxyUrl,
        HTTP_PROXY: egressProxyUrl,
        NO_PROXY: '127.0.0.1,localhost',
      },
    };
  },
};

/** Every client the suite runs. */
export const realClients: readonly RealClient[] = [claudeCode, codexCli, geminiCli];
