import { once } from 'node:events';
import type { Logger } from 'pino';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { isConfigError, loadConfig, type LoadedConfig } from './config/load.js';
import { watchConfig } from './config/watch.js';
import { checkUnbuiltFeatures } from './config/unbuilt-features.js';
import { changedRestartOnlySettings, restartOnlySettings } from './config/restart-only.js';
import { ConfigSchema, type ReadonlyConfig } from './config/schema.js';
import { ShutdownRegistry } from './lifecycle/shutdown-registry.js';
import { providersWithoutCredentials } from './config/validate-semantics.js';
import { createApp } from './server/create-app.js';
import { createIpFilterHook, createIpRateLimitHook } from './server/hooks/network.js';
import { GatewayMetrics } from './server/metrics-observer.js';
import { startMetricsListener } from './server/metrics-listener.js';
import type { ExchangeObserver } from './server/exchange.js';
import { createLogger } from './server/logger.js';
import { buildRuntime, type Runtime } from './server/runtime.js';
import { ensureInitialClientKey } from './security/client-keys.js';
import { preloadDeviceFingerprint } from './security/fingerprint.js';
import { redactText, registerSecrets } from './security/redact.js';
import { prepareCredentialStore } from './credentials/startup-checks.js';
import { startOAuthRuntime } from './oauth/refresh-runtime.js';
import { createStderrSecurityEvents, type SecurityEventSink } from './credentials/security-events.js';
import { watchCredentialFiles } from './credentials/store-watch.js';
import type { CredentialChange } from './oauth/credential-sync.js';
import { openAuditLog, type AuditLog } from './audit/audit-log.js';
import { createAuthenticationAudit, createRequestAuditObserver } from './audit/request-audit.js';
import { createStateBackend } from './state/create-state-backend.js';
import type { StateBackend } from './state/types.js';
import { UpstreamClient } from './upstream/client.js';
import { loadManagementClientCa, loadTlsPair, tlsProtocolOptions } from './security/tls-material.js';
import { startTlsReloader, type SecureContextTarget } from './security/tls-reloader.js';
import { createNetworkCounters, type NetworkCounters } from './limits/counters.js';
import { IpRateLimiter } from './limits/ip-rate-limiter.js';
import { ProviderLimiter } from './limits/provider-limiter.js';
import { budgetPeriods, KeyLimiter, seedBudgetCounter } from './limits/key-limiter.js';
import { createUsageObserver } from './server/usage-observer.js';
import { readUsageFile, UsageStore, type UsageEntry } from './usage/usage-store.js';
import { tokensByKeySince } from './usage/usage-query.js';
import { SharedCooldowns } from './limits/shared-cooldowns.js';
import { StateGuard } from './limits/state-guard.js';
import { BanMirror } from './net/ban-mirror.js';
import type { ProviderSwitch } from './management/provider-switch.js';
import { createManagementServices, type ReloadOutcome } from './management/services.js';

/** The gateway's logger factory, for the `serve --workers` primary (cluster/ may not import server/). */
export { createLogger } from './server/logger.js';
import { AlertEngine } from './alerts/engine.js';
import { WebhookNotifier } from './alerts/webhook.js';
import { loadWebhookSecret } from './alerts/webhook-secret.js';
import { compileAlertRules } from './config/alert-rules.js';

export interface StartGatewayOptions {
  loaded: LoadedConfig;
  /** pino JSON lines go here (stdout when omitted). */
  logStream?: NodeJS.WritableStream;
  /** Subscribers of the per-request record (server/exchange.ts), after the access log; tests pass a recorder. */
  exchangeObservers?: readonly ExchangeObserver[];
  now?: () => number;
  /** `serve --fix-permissions`: repair insecure modes of secret files instead of refusing to start. */
  fixPermissions?: boolean;
  /** `serve --migrate`: encrypt plaintext credential files found in auth.dir instead of refusing. */
  migrate?: boolean;
  /** Also receives every credential security event, besides the audit log (tests pass a recorder). */
  securityEvents?: SecurityEventSink;
  /** Quiet period (milliseconds) after a change in auth.dir or the key file before it is applied. Default 300; tests shorten it. */
  credentialWatchDebounceMs?: number;
  /**
   * Re-reads the config source (`serve`: the config file and env; tests: their builder). The
   * management API's `POST /v0/management/config/reload` calls it; absent, that endpoint answers 409.
   */
  configSource?: () => LoadedConfig;
  /**
   * The state backend to use instead of the one `state:` asks for: a `serve --workers` worker with
   * the memory backend passes its line to the primary's store (state/ipc-client.ts). Closed at shutdown.
   */
  state?: StateBackend;
  /** Fields on every log line (`{ worker: 2 }` in a `serve --workers` worker). */
  logBase?: Record<string, string | number>;
  /**
   * What `GET /metrics` (and the metrics listener) serve instead of this process's own numbers: a
   * `serve --workers` worker passes the cluster's merged exposition (cluster/metrics-gathering.ts).
   * Used only while `metrics.enabled`.
   */
  metricsSource?: () => Promise<string>;
}

export interface RunningGateway {
  /** http://host:port (https:// with server.tls.enabled) of the listening socket. */
  url: string;
  port: number;
  app: FastifyInstance;
  logger: Logger;
  /** Swaps in a new config (already validated). Settings fixed at start are reported, not applied. */
  reload(loaded: LoadedConfig): void;
  /** The audit log (src/audit/): management, alerts and reload record into it. Closed last. */
  audit: AuditLog;
  /** The network layer: refusal and state-failure counters, the dynamic bans, the per-IP limiter. */
  network: { counters: NetworkCounters; bans: BanMirror; ipRateLimiter: IpRateLimiter };
  /**
   * Live credential changes: `apply()` re-reads auth.dir and the key file now and swaps the result
   * into the request path (new credentials join the pools, deleted ones leave pools and refresher,
   * a changed keyring is re-read; a bad file is refused and logged). The watcher calls it on every
   * change; the management API calls it after its own writes. Undefined with encryption off.
   */
  credentials: { apply(): Promise<CredentialChange> } | undefined;
  /** The metrics (counted while `metrics.enabled` or alert rules run); `listenerUrl` when `metrics.listener` is on. */
  metrics: { gateway: GatewayMetrics | undefined; listenerUrl: string | undefined };
  /** Providers switched off through the management API (a `serve --workers` worker shares its switches). */
  providerSwitch: ProviderSwitch;
  /** What close() closes, in that order: the reverse of creation. */
  readonly shutdownOrder: readonly string[];
  /** Graceful: stop accepting, let in-flight requests and streams finish up to the grace period, then close. */
  close(): Promise<void>;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Settings read once at start, from the schema's `restartOnly` marks: a reload that changes one names it. */
const startOnlySettings = restartOnlySettings(ConfigSchema);

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
  const logger = createLogger({
    level: config.logging.level,
    ...(options.logStream ? { destination: options.logStream } : {}),
    ...(options.logBase === undefined ? {} : { base: options.logBase }),
  });
  for (const warning of options.loaded.warnings) logger.warn({ source: options.loaded.configPath ?? 'embedded default' }, warning);
  const notActive = checkUnbuiltFeatures(config).notActive;
  if (notActive !== '') logger.warn(notActive);

  // The audit log first: an unsafe audit file or key stops the start, and every later step
  // (permission repairs, migrations, unreadable credentials) records into it.
  const audit = await openAuditLog(config, {
    createKey: true,
    fallback: createStderrSecurityEvents(),
    onError: (error) => logger.error({ err_message: error.message }, 'audit records could not be written; they stay queued and are retried'),
  });
  // The audit log is the process's one security event sink: credential events and every management call.
  // Credential security before anything listens: modes, owners and symlinks of every secret file,
  // the keyring, plaintext files (refused, or migrated). A refusal names each path and its fix.
  const extraEvents = options.securityEvents;
  const securityEvents: SecurityEventSink =
    extraEvents === undefined
      ? audit
      : {
          record(event) {
            audit.record(event);
            extraEvents.record(event);
          },
        };
  const credentialStore = await prepareCredentialStore(options.loaded, {
    fixPermissions: options.fixPermissions === true,
    migrate: options.migrate === true,
    events: securityEvents,
    actor: 'serve',
  }).catch(async (error: unknown) => {
    await audit.close().catch(() => undefined);
    throw error;
  });
  for (const warning of credentialStore.warnings) logger.warn(warning);
  let activeLoaded = options.loaded; // replaced on each accepted reload
  // Everything that must be closed, registered right after it is created and closed in reverse, at
  // shutdown or when a later step of this start fails (src/lifecycle/shutdown-registry.ts).
  const shutdown = new ShutdownRegistry({
    onError: (name, error) => logger.error({ err_message: (error as Error).message }, `closing the ${name} failed`),
  });
  // Closed last: whatever the other parts record while they close still reaches the file.
  shutdown.add('audit log', async () => {
    audit.record({ event_type: 'server-stop', result: 'success', actor: 'serve' });
    await audit.close();
  });
  await shutdown.closeOnFailure(() => preloadDeviceFingerprint(config));
  // The one state backend of the process: created here (or handed in by a cluster worker), passed
  // to whoever needs it, closed last.
  const state = options.state ?? createStateBackend(config.state, { registerSecrets });
  // Shared by other processes (Redis, or the primary of `serve --workers`): limits go through it.
  const stateIsShared = state.kind !== 'memory';
  shutdown.add('state backend', () => state.close());
  const encryptedStore = credentialStore.encryptedStore;
  const live =
    encryptedStore === undefined
      ? undefined
      : { store: encryptedStore, events: securityEvents, ...(encryptedStore.keyring.source === 'key_file' ? { keyFile: config.auth.encryption.key_file } : {}) };
  const oauth = await shutdown.closeOnFailure(() =>
    startOAuthRuntime({ config: () => activeLoaded.config, store: credentialStore.store, logger, state, events: audit, ...(live === undefined ? {} : { live }) }),
  );
  shutdown.add('OAuth refresh', () => oauth.close());
  // A delete in this process (the management API): the pass takes the credential out of the pools
  // first, then the refresher wipes its tokens.
  encryptedStore?.onDeleted((id) => {
    if (oauth.sync === undefined) oauth.refresher.untrack(id);
    else void oauth.sync.apply();
  });

  // The network layer's limiters: Redis behind a circuit breaker (limits/state-guard.ts), so an
  // outage applies each limit's failure policy at once instead of a 5 s timeout per request.
  const counters = createNetworkCounters();
  const guard = stateIsShared ? new StateGuard({ counters, logger }) : undefined;
  const ipRateLimiter = new IpRateLimiter({ now, ...(guard === undefined ? {} : { shared: { state, guard } }) });
  const providerLimiter = new ProviderLimiter({ state, counters, ...(guard === undefined ? {} : { guard }) });
  // Client keys' limits share the provider budgets' buckets and the state backend (one reserve-then-settle).
  const keyLimiter = new KeyLimiter({ state, counters, buckets: providerLimiter, now, ...(guard === undefined ? {} : { guard }) });
  const usage = await openUsage(config, state, logger, now);
  if (usage !== undefined) shutdown.add('usage store', () => usage.close());
  const bans = new BanMirror(state);
  shutdown.add('ban mirror', () => bans.close());
  await bans.start().catch((error: unknown) => {
    logger.warn({ err_message: (error as Error).message }, 'dynamic IP bans could not be loaded from the state backend; bans placed by other replicas are not followed');
  });
  const sharedCooldowns =
    stateIsShared
      ? new SharedCooldowns(state, () => [...runtime.providers.values()].map((provider) => provider.pool), (error) =>
          logger.warn({ err_message: (error as Error).message }, 'a credential cooldown could not be shared with other replicas'),
        )
      : undefined;
  if (sharedCooldowns !== undefined) {
    shutdown.add('shared cooldowns', () => sharedCooldowns.close());
    await sharedCooldowns.start().catch((error: unknown) => {
      logger.warn({ err_message: (error as Error).message }, 'credential cooldowns of other replicas are not followed: the state backend did not answer');
    });
  }
  // The management API over the same state backend, ban mirror, credential store and event sink.
  let reloadThroughApi: (() => ReloadOutcome) | undefined;
  let refreshRuntime = (): void => undefined;
  const management = createManagementServices({
    state,
    bans,
    events: securityEvents,
    ...(credentialStore.encryptedStore === undefined ? {} : { store: credentialStore.encryptedStore }),
    totpFile: config.management.totp_file,
    ...(options.configSource === undefined ? {} : { reloadConfig: () => reloadThroughApi?.() ?? { applied: false } }),
    refreshRuntime: () => refreshRuntime(),
    counters: () => ({ ...counters }),
    ...(usage === undefined ? {} : { usage: () => usage.snapshot() }),
    now,
  });
  // A login started through the API holds a loopback callback server until it is answered.
  shutdown.add('management logins', () => management.logins.closeAll());
  const networkRuntimeOptions = {
    bans,
    disabledProviders: management.providers,
    ...(sharedCooldowns === undefined ? {} : { onCooldown: sharedCooldowns.announce }),
  };

  // Alert rules (alerts/engine.ts): block_ip through the ban mirror (every replica follows the
  // state backend's bans), notify_admin through the signed webhook; both audited.
  const webhook = config.alerting.webhook;
  let notifier: WebhookNotifier | undefined;
  if (webhook.url !== undefined) {
    const secret = await shutdown.closeOnFailure(() => loadWebhookSecret(webhook.secret_file));
    // The URL too: webhook URLs often carry a token in their path (Slack-style).
    registerSecrets([secret.toString('utf8'), webhook.url]);
    notifier = new WebhookNotifier({
      url: webhook.url,
      secret,
      timeoutMs: webhook.timeout_ms,
      maxAttempts: webhook.max_attempts,
      allowPrivateNetwork: webhook.allow_private_network,
      logger,
      onGiveUp: () => void (alertEngine.notificationsFailed += 1),
    });
    const closing = notifier;
    shutdown.add('alert webhook', () => closing.close());
  }
  const alertEngine = new AlertEngine(
    compileAlertRules(config.alerts),
    {
      block: (address, ttlMs) => bans.ban(address, ttlMs),
      notify: (notification) =>
        notifier === undefined
          ? logger.error({ rule: notification.rule }, 'alert rule fired but no webhook is configured (alerting.* changes need a restart)')
          : notifier.send(notification),
      audit,
      logger,
    },
    { now, maxTrackedIps: config.alerting.max_tracked_ips },
  );

  // Metrics count while they are served or while alert rules need their events (server/metrics-observer.ts).
  const gatewayMetrics =
    config.metrics.enabled || config.alerts.length > 0
      ? new GatewayMetrics({ runtime: () => runtime, network: counters, blockedIps: () => bans.activeCount(), alerts: () => alertEngine.counts() })
      : undefined;
  if (gatewayMetrics !== undefined) gatewayMetrics.onSecurityEvent = (counter, clientIp) => alertEngine.record(counter, clientIp);
  const exchangeObservers = [
    ...(gatewayMetrics === undefined ? [] : [gatewayMetrics.observer]),
    ...(usage === undefined ? [] : [createUsageObserver(usage, () => runtime)]),
    ...(options.exchangeObservers ?? []),
  ];

  const storedCountOf = (provider: string) => oauth.credentialsByProvider.get(provider)?.length ?? 0;
  for (const warning of providersWithoutCredentials(config.providers, storedCountOf)) logger.warn(warning);

  let runtime = await shutdown.closeOnFailure(() => {
    const built = buildRuntime(options.loaded, { now, storedCredentials: oauth.credentialsByProvider, ...networkRuntimeOptions });
    assertSafeToListen(options.loaded, built);
    return built;
  });
  // Live credential changes swap a runtime with the new stored credentials in, over the same config.
  oauth.sync?.setListener((byProvider) => {
    runtime = buildRuntime(activeLoaded, { now, previous: runtime, storedCredentials: byProvider, ...networkRuntimeOptions });
  });
  if (oauth.sync !== undefined && encryptedStore !== undefined) {
    const sync = oauth.sync;
    try {
      const watcher = watchCredentialFiles({
        dir: encryptedStore.dir,
        ...(live?.keyFile === undefined ? {} : { keyFile: live.keyFile }),
        ...(options.credentialWatchDebounceMs === undefined ? {} : { debounceMs: options.credentialWatchDebounceMs }),
        onChange: () => {
          sync.apply().catch((error: unknown) => logger.error({ err_message: redactText((error as Error).message) }, 'credential reload failed; the running credentials keep serving'));
        },
        onError: (error) => logger.warn({ err_message: (error as Error).message }, 'credential watch failed; changes in auth.dir apply at the next restart or management call'),
      });
      shutdown.add('credential watcher', () => watcher.close());
    } catch (error) {
      logger.warn({ err_message: (error as Error).message }, 'live credential reload is off: auth.dir could not be watched');
    }
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
  shutdown.add('upstream client', () => upstream.close());
  // TLS: the key file's permissions and the pair are checked before anything listens.
  const tls = config.server.tls;
  const tlsPair = tls.enabled ? await shutdown.closeOnFailure(() => loadTlsPair(tls)) : undefined;
  // mTLS for the management scope: every handshake asks for a client certificate, verified against
  // the management CA only; none is required at the TLS layer (the client API's SDKs have none),
  // the management scope's hook refuses a connection without a verified one.
  const managementCa = tls.enabled ? await shutdown.closeOnFailure(() => loadManagementClientCa(tls)) : undefined;
  const clientCertificateOptions = managementCa === undefined ? {} : { requestCert: true, rejectUnauthorized: false, ca: managementCa };
  const app = createApp({
    ...(tlsPair === undefined ? {} : { https: { ...tlsProtocolOptions(tls), cert: tlsPair.cert, key: tlsPair.key, ...clientCertificateOptions } }),
    ...(managementCa === undefined ? {} : { managementClientCertificate: true }),
    runtime: () => runtime,
    credentials: oauth.refresher,
    upstream,
    logger,
    now,
    isShuttingDown: () => shuttingDown,
    bodyLimitBytes: config.server.body_limit_bytes,
    timeouts: { headersMs: config.server.timeouts.headers_ms, requestMs: config.server.timeouts.request_ms, keepAliveMs: config.server.timeouts.keep_alive_ms },
    maxHeaderBytes: config.server.max_header_bytes,
    accessLog: config.logging.access_log,
    // The network layer fills the hook order's two IP slots (server/hooks/hook-order.ts).
    slotHooks: {
      'ip-filter': createIpFilterHook({ runtime: () => runtime, counters }),
      'ip-rate-limit': createIpRateLimitHook({ runtime: () => runtime, counters, limiter: ipRateLimiter }),
    },
    providerLimiter,
    keyLimiter,
    management,
    ...(config.server.security.headers.enabled ? { securityHeaders: { hstsMaxAgeSeconds: config.server.security.headers.hsts_max_age } } : {}),
    corsAllowedOrigins: config.server.security.cors.allowed_origins,
    // The audit log hears every authentication and the end of every authenticated client request.
    ...(audit.file === undefined ? {} : { authenticationEvents: createAuthenticationAudit(audit, { now }) }),
    exchangeObservers: [...(audit.file === undefined ? [] : [createRequestAuditObserver(audit)]), ...exchangeObservers],
    ...(gatewayMetrics !== undefined && config.metrics.enabled ? { renderMetrics: options.metricsSource ?? (() => gatewayMetrics.render()) } : {}),
  });
  shutdown.add('http server', async () => {
    // In-flight requests and streams may finish within the grace period; then they are cut.
    const grace = setTimeout(() => {
      logger.warn('Shutdown grace period over: closing the remaining connections.');
      app.server.closeAllConnections();
    }, config.server.timeouts.shutdown_grace_ms);
    grace.unref();
    try {
      await app.close();
    } finally {
      clearTimeout(grace);
    }
  });
  await shutdown.closeOnFailure(() => app.listen({ host: config.server.host, port: config.server.port }));
  tlsPair?.key.fill(0); // the listener's secure context holds its own copy
  if (tls.enabled) {
    const reloader = startTlsReloader({ tls, server: app.server as unknown as SecureContextTarget, logger });
    shutdown.add('TLS certificate reloader', () => reloader.close());
  }
  const credentialSync = oauth.sync;
  const liveCredentials = credentialSync === undefined ? undefined : { apply: () => credentialSync.apply() };
  let metricsListenerUrl: string | undefined;
  if (gatewayMetrics !== undefined && config.metrics.enabled && config.metrics.listener.enabled) {
    const listener = await shutdown.closeOnFailure(() =>
      startMetricsListener({ host: config.metrics.listener.host, port: config.metrics.listener.port, render: options.metricsSource ?? (() => gatewayMetrics.render()) }),
    );
    shutdown.add('metrics listener', () => listener.close());
    metricsListenerUrl = listener.url;
    logger.info({ metrics_url: listener.url }, 'metrics listener (no key, loopback only) listening');
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
  const hostForUrl = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  audit.record({ event_type: 'server-start', result: 'success', actor: 'serve', detail: { pid: process.pid, host: config.server.host, port } });

  const gateway: RunningGateway = {
    url: `${tls.enabled ? 'https' : 'http'}://${hostForUrl}:${port}`,
    port,
    app,
    logger,
    reload(loaded) {
      const next = buildRuntime(loaded, { now, previous: runtime, storedCredentials: oauth.credentialsByProvider, ...networkRuntimeOptions });
      // Applied even when it leaves no client key: revoking the last key must lock clients out
      // at once, not keep the revoked key working until a restart.
      runtime = next;
      activeLoaded = loaded;
      alertEngine.replaceRules(compileAlertRules(loaded.config.alerts));
      if (gatewayMetrics === undefined && loaded.config.alerts.length > 0) {
        logger.warn('alert rules were added, but this process started with metrics off and no rules, so it does not count security events: restart to apply them');
      }
      if (next.authenticator.size === 0) logger.warn('No client keys remain: every API request is refused with 401.');
      const needRestart = changedRestartOnlySettings(startOnlySettings, options.loaded.config, loaded.config);
      if (needRestart.length > 0) logger.warn({ settings: needRestart }, `Config reloaded, but these settings change only on restart: ${needRestart.join(', ')}.`);
      for (const warning of loaded.warnings) logger.warn(warning);
      for (const warning of providersWithoutCredentials(loaded.config.providers, storedCountOf)) logger.warn(warning);
      logger.info({ providers: [...next.providers.keys()], client_keys: next.authenticator.size }, 'config reloaded');
    },
    audit,
    network: { counters, bans, ipRateLimiter },
    credentials: liveCredentials,
    metrics: { gateway: gatewayMetrics, listenerUrl: metricsListenerUrl },
    providerSwitch: management.providers,
    shutdownOrder: shutdown.closeOrder,
    close() {
      shuttingDown = true; // new requests get 503 while the server drains
      return shutdown.closeAll();
    },
  };
  // The client key file changed through the API: the same rebuild a reload of the current config does.
  refreshRuntime = () => gateway.reload(activeLoaded);
  const configSource = options.configSource;
  if (configSource !== undefined) {
    reloadThroughApi = () => {
      try {
        gateway.reload(configSource());
        return { applied: true };
      } catch (error) {
        gateway.logger.error({ err_message: (error as Error).message, ...codeField(error) }, 'config reload refused; keeping the running config');
        return { applied: false, problem: (error as Error).message };
      }
    };
  }
  return gateway;
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

/** The catalog code of an operator error, as the log field `code` (docs/errors.md). */
export function codeField(error: unknown): { code?: string } {
  return isConfigError(error) ? { code: error.code } : {};
}

/**
 * Applies a reloaded config, or keeps the running one and logs why at error level (the paths and
 * rules that failed and the catalog code; a problem never quotes a key or a hash). Building the new
 * runtime reads and checks the client key file again, so a key file another user replaced or
 * loosened leaves the running keys in force. Returns whether the new config was applied.
 */
export function applyReload(gateway: RunningGateway, next: LoadedConfig): boolean {
  try {
    gateway.reload(next);
    gateway.audit.record({ event_type: 'config-reload', result: 'success', actor: 'serve', detail: { source: next.configPath ?? 'embedded default' } });
    return true;
  } catch (error) {
    gateway.logger.error({ err_message: (error as Error).message, ...codeField(error) }, 'config reload refused; keeping the running config');
    recordRefusedReload(gateway, error);
    return false;
  }
}

/** A reload that was not applied (invalid file, unusable key file), in the audit log: the catalog code and the first problem. */
function recordRefusedReload(gateway: RunningGateway, error: unknown): void {
  const message = isConfigError(error) ? (error.problems[0] ?? '') : ((error as Error).message.split('\n')[0] ?? '');
  gateway.audit.record({ event_type: 'config-reload', result: 'failure', actor: 'serve', detail: { ...codeField(error), problem: message } });
}

/**
 * First start without any client key: generates one and prints it, once (only its hash is stored).
 * With `serve --workers N` the primary calls this before forking, so the key is printed once and
 * the workers find the key file already written.
 */
export function announceInitialClientKey(loaded: LoadedConfig, print: (line: string) => void): void {
  const initialKey = ensureInitialClientKey(loaded);
  if (initialKey === undefined) return;
  print('');
  print(`A client key was generated (id "${initialKey.id}"). It is shown only this once; only its hash is stored:`);
  print('');
  print(`    ${initialKey.key}`);
  print('');
  print('Clients send it as "Authorization: Bearer <key>" or "x-api-key: <key>".');
  print('');
}

/** `cliproxyapi serve`: load, announce a first key, listen, hot-reload, shut down on signals. */
export async function runServe(options: RunServeOptions): Promise<void> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const loaded = loadConfig(options.configPath === undefined ? {} : { path: options.configPath });
  announceInitialClientKey(loaded, print);
  const reloadFrom = () => loadConfig(options.configPath === undefined ? {} : { path: options.configPath });
  const gateway = await startGateway({ loaded, fixPermissions: options.fixPermissions === true, migrate: options.migrate === true, configSource: reloadFrom });
  gateway.logger.info({ url: gateway.url, config: loaded.configPath ?? 'embedded default' }, 'cliproxyapi listening');

  // Hot reload: the config file, and the key files `keys create|revoke` and `management-keys create|revoke` write.
  const keysFile = loaded.config.auth.client_keys_file;
  const managementKeysFile = loaded.config.management.keys_file;
  const watcher = startWatching(gateway, () => watchConfig({
    path: options.configPath ?? keysFile,
    extraPaths: options.configPath === undefined ? [managementKeysFile] : [keysFile, managementKeysFile],
    load: reloadFrom,
    onReload: (next) => applyReload(gateway, next),
    onError: (error) => {
      gateway.logger.error({ err_message: (error as Error).message, ...codeField(error) }, 'config reload failed; keeping the running config');
      recordRefusedReload(gateway, error);
    },
  }));

  const signal = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
  gateway.logger.info({ signal: String(signal[0] ?? '') }, 'shutting down');
  watcher.close();
  await gateway.close();
  gateway.logger.flush();
}

/**
 * Opens the usage store (usage.enabled) and compacts its file. With the memory backend the budgets'
 * counters start empty, so the day's and month's recorded usage is charged to them first: a restart
 * does not hand a key its budget again. Redis keeps its counters across a restart itself, and a
 * `serve --workers` worker uses the primary's counters, which the primary charged at its own start
 * (chargeRecordedUsageFromFile), so nothing is charged twice.
 */
async function openUsage(config: ReadonlyConfig, state: StateBackend, logger: FastifyBaseLogger, now: () => number): Promise<UsageStore | undefined> {
  if (!config.usage.enabled) return undefined;
  const store = new UsageStore({
    file: config.usage.file,
    flushIntervalMs: config.usage.flush_interval_ms,
    now,
    onError: (error) => logger.error({ err_message: (error as Error).message }, 'usage could not be written; kept in memory and retried'),
  });
  const entries = await store.open();
  if (state.kind === 'memory') await chargeRecordedUsage(state, entries, now());
  return store;
}

/** Charges the day's and month's recorded usage of every key to the budget counters in `state`. */
async function chargeRecordedUsage(state: StateBackend, entries: readonly UsageEntry[], now: number): Promise<void> {
  const periods = budgetPeriods(now);
  const dayStart = Date.parse(`${periods.day}T00:00:00Z`);
  const monthStart = Date.parse(`${periods.month}-01T00:00:00Z`);
  for (const [key, tokens] of tokensByKeySince(entries, dayStart)) await seedBudgetCounter(state, key, 'day', tokens, now);
  for (const [key, tokens] of tokensByKeySince(entries, monthStart)) await seedBudgetCounter(state, key, 'month', tokens, now);
}

/**
 * For the `serve --workers` primary, which holds the memory backend the workers share: its budget
 * counters charged from the usage file at its start, as a single process charges its own, so a full
 * restart of the pool does not hand every key its budget back. Read before any worker exists (each
 * compacts the file when it opens it); no file yet = nothing to charge.
 */
export async function chargeRecordedUsageFromFile(config: ReadonlyConfig, state: StateBackend, now: number): Promise<void> {
  if (!config.usage.enabled) return;
  await chargeRecordedUsage(state, await readUsageFile(config.usage.file), now);
}
