import { once } from 'node:events';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type LoadedConfig } from './config/load.js';
import { watchConfig } from './config/watch.js';
import { checkUnbuiltFeatures } from './config/unbuilt-features.js';
import { createApp } from './server/create-app.js';
import { createLogger } from './server/logger.js';
import { buildRuntime, type Runtime } from './server/runtime.js';
import { ensureInitialClientKey } from './security/client-keys.js';
import { preloadDeviceFingerprint } from './security/fingerprint.js';
import { registerSecrets } from './security/redact.js';
import { prepareCredentialStore } from './credentials/startup-checks.js';
import { startOAuthRuntime } from './oauth/refresh-runtime.js';
import { createStderrSecurityEvents } from './credentials/security-events.js';
import { createStateBackend } from './state/create-state-backend.js';
import { UpstreamClient } from './upstream/client.js';

export interface StartGatewayOptions {
  loaded: LoadedConfig;
  /** pino JSON lines go here (stdout when omitted). */
  logStream?: NodeJS.WritableStream;
  now?: () => number;
  /** `serve --fix-permissions`: repair insecure modes of secret files instead of refusing to start. */
  fixPermissions?: boolean;
  /** `serve --migrate`: encrypt plaintext credential files found in auth.dir instead of refusing. */
  migrate?: boolean;
}

export interface RunningGateway {
  /** http://host:port of the listening socket. */
  url: string;
  port: number;
  app: FastifyInstance;
  logger: Logger;
  /** Swaps in a new config (already validated). Settings fixed at start are reported, not applied. */
  reload(loaded: LoadedConfig): void;
  /** Graceful: stop accepting, let in-flight requests and streams finish up to the grace period, then close. */
  close(): Promise<void>;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Settings compiled into the listening server; a reload that changes them needs a restart. */
function restartOnlySettings(loaded: LoadedConfig): string {
  const { host, port, body_limit_bytes, timeouts, tls } = loaded.config.server;
  const { connect_timeout_ms, first_byte_timeout_ms, idle_timeout_ms, max_connections_per_origin } = loaded.config.upstream;
  return JSON.stringify({
    server: { host, port, body_limit_bytes, timeouts, tls },
    upstream: { connect_timeout_ms, first_byte_timeout_ms, idle_timeout_ms, max_connections_per_origin },
    client_keys_file: loaded.config.auth.client_keys_file,
    // The credential store, keyring and state backend are opened once at start.
    credential_store: { dir: loaded.config.auth.dir, encryption: loaded.config.auth.encryption },
    state: loaded.config.state,
    logging: loaded.config.logging,
  });
}

/**
 * Refuses configurations that would expose the gateway: a non-loopback bind with no client key
 * is the "empty key list = open to the world" bug of the Go proxies, and we fail closed instead.
 */
export function assertSafeToListen(loaded: LoadedConfig, runtime: Runtime): void {
  const host = loaded.config.server.host;
  if (!isLoopbackHost(host) && runtime.authenticator.size === 0) {
    throw new Error(
      `Refusing to listen on ${host}: no client keys are configured, so anyone who can reach the port could use the upstream credentials. ` +
        'Create one with `cliproxyapi keys create --id NAME` or bind to 127.0.0.1.',
    );
  }
}

export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const now = options.now ?? Date.now;
  const config = options.loaded.config;
  const logger = createLogger({ level: config.logging.level, ...(options.logStream ? { destination: options.logStream } : {}) });
  for (const warning of options.loaded.warnings) logger.warn({ source: options.loaded.configPath ?? 'embedded default' }, warning);
  logger.warn(checkUnbuiltFeatures(config).notActive);

  // Credential security before anything listens: modes, owners and symlinks of every secret file,
  // the keyring, plaintext files (refused, or migrated). A refusal names each path and its fix.
  const credentialStore = await prepareCredentialStore(options.loaded, {
    fixPermissions: options.fixPermissions === true,
    migrate: options.migrate === true,
    events: createStderrSecurityEvents(),
    actor: 'serve',
  });
  for (const warning of credentialStore.warnings) logger.warn(warning);
  preloadDeviceFingerprint(config);
  let activeLoaded = options.loaded; // replaced on each accepted reload
  // The one state backend of the process: created here, passed to whoever needs it, closed last.
  const state = createStateBackend(config.state, { registerSecrets });
  const oauth = await startOAuthRuntime({ config: () => activeLoaded.config, store: credentialStore.store, logger, state }).catch(async (error: unknown) => {
    await state.close();
    throw error;
  });
  credentialStore.encryptedStore?.onDeleted((id) => oauth.refresher.untrack(id));

  let runtime = buildRuntime(options.loaded, { now, storedCredentials: oauth.credentialsByProvider });
  try {
    assertSafeToListen(options.loaded, runtime);
  } catch (error) {
    await oauth.close();
    await state.close();
    throw error;
  }
  if (runtime.authenticator.size === 0) {
    logger.warn('No client keys are configured: every API request will be refused with 401. Run `cliproxyapi keys create --id NAME`.');
  }
  let shuttingDown = false;
  const upstream = new UpstreamClient({
    connectTimeoutMs: config.upstream.connect_timeout_ms,
    firstByteTimeoutMs: config.upstream.first_byte_timeout_ms,
    idleTimeoutMs: config.upstream.idle_timeout_ms,
    maxConnectionsPerOrigin: config.upstream.max_connections_per_origin,
  });
  const app = createApp({
    runtime: () => runtime,
    credentials: oauth.refresher,
    upstream,
    logger,
    now,
    isShuttingDown: () => shuttingDown,
    bodyLimitBytes: config.server.body_limit_bytes,
    timeouts: { headersMs: config.server.timeouts.headers_ms, requestMs: config.server.timeouts.request_ms, keepAliveMs: config.server.timeouts.keep_alive_ms },
    accessLog: config.logging.access_log,
  });
  await app.listen({ host: config.server.host, port: config.server.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
  const hostForUrl = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const startedSettings = restartOnlySettings(options.loaded);
  let closing: Promise<void> | undefined;

  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    app,
    logger,
    reload(loaded) {
      const next = buildRuntime(loaded, { now, previous: runtime, storedCredentials: oauth.credentialsByProvider });
      // Applied even when it leaves no client key: revoking the last key must lock clients out
      // at once, not keep the revoked key working until a restart.
      runtime = next;
      activeLoaded = loaded;
      if (next.authenticator.size === 0) logger.warn('No client keys remain: every API request is refused with 401.');
      if (restartOnlySettings(loaded) !== startedSettings) {
        logger.warn('Config reloaded, but server.*, upstream timeouts, auth.client_keys_file, auth.dir, auth.encryption, state and logging change only on restart.');
      }
      for (const warning of loaded.warnings) logger.warn(warning);
      logger.info({ providers: [...next.providers.keys()], client_keys: next.authenticator.size }, 'config reloaded');
    },
    close() {
      closing ??= closeOnce();
      return closing;
    },
  };

  async function closeOnce(): Promise<void> {
    shuttingDown = true;
    const grace = setTimeout(() => {
      logger.warn('Shutdown grace period over: closing the remaining connections.');
      app.server.closeAllConnections();
    }, config.server.timeouts.shutdown_grace_ms);
    grace.unref();
    try {
      await app.close();
    } finally {
      clearTimeout(grace);
      await upstream.close();
      await oauth.close();
      await state.close();
    }
  }
}

export interface RunServeOptions {
  configPath: string | undefined;
  fixPermissions?: boolean;
  migrate?: boolean;
  /** Where the one-time client key announcement goes (stdout by default). */
  print?: (line: string) => void;
}

/**
 * Hot reload is a convenience, not a reason to die: a watch that cannot start (its directory does
 * not exist, inotify limits) is logged and the gateway keeps serving on the loaded config.
 */
function startWatching(gateway: RunningGateway, start: () => { close(): void }): { close(): void } {
  try {
    return start();
  } catch (error) {
    gateway.logger.warn({ err_message: (error as Error).message }, 'hot reload is off: the config could not be watched');
    return { close: () => undefined };
  }
}

/** `cliproxyapi serve`: load, announce a first key, listen, hot-reload, shut down on signals. */
export async function runServe(options: RunServeOptions): Promise<void> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const loaded = loadConfig(options.configPath === undefined ? {} : { path: options.configPath });
  const initialKey = ensureInitialClientKey(loaded);
  if (initialKey !== undefined) {
    print('');
    print(`A client key was generated (id "${initialKey.id}"). It is shown only this once; only its hash is stored:`);
    print('');
    print(`    ${initialKey.key}`);
    print('');
    print('Clients send it as "Authorization: Bearer <key>" or "x-api-key: <key>".');
    print('');
  }
  const gateway = await startGateway({ loaded, fixPermissions: options.fixPermissions === true, migrate: options.migrate === true });
  gateway.logger.info({ url: gateway.url, config: loaded.configPath ?? 'embedded default' }, 'cliproxyapi listening');

  // Hot reload: the config file, and the client-key file `keys create|revoke` writes.
  const reloadFrom = () => loadConfig(options.configPath === undefined ? {} : { path: options.configPath });
  const keysFile = loaded.config.auth.client_keys_file;
  const watcher = startWatching(gateway, () => watchConfig({
    path: options.configPath ?? keysFile,
    extraPaths: options.configPath === undefined ? [] : [keysFile],
    load: reloadFrom,
    onReload: (next) => {
      try {
        gateway.reload(next);
      } catch (error) {
        gateway.logger.error({ err_message: (error as Error).message }, 'config reload refused; keeping the running config');
      }
    },
    onError: (error) => gateway.logger.error({ err_message: (error as Error).message }, 'config reload failed; keeping the running config'),
  }));

  const signal = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
  gateway.logger.info({ signal: String(signal[0] ?? '') }, 'shutting down');
  watcher.close();
  await gateway.close();
  gateway.logger.flush();
}
