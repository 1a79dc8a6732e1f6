import { lazyRequestLoggerFactory } from './request-logger.js';
import { randomUUID } from 'node:crypto';
import type { TlsOptions } from 'node:tls';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type onRequestHookHandler } from 'fastify';
import type { UpstreamClient } from '../upstream/client.js';
import { createAccessLogObserver } from './access-log.js';
import { createClientErrorHandler } from './client-error.js';
import { installConnectionCap, trustedProxyExemption } from './connection-cap.js';
import type { ChatPipelineDependencies } from './chat-pipeline.js';
import { installErrorHandler, installNotFoundHandler } from './error-handler.js';
import { ExchangeObservers, type ExchangeObserver } from './exchange.js';
import { createJsonBodyParser } from './hooks/body-parser.js';
import { deferContinue } from './hooks/expect-continue.js';
import type { AuthenticationEvents } from './hooks/authenticate.js';
import { compileRequestHooks, requestHookOrder, type HookSlot } from './hooks/hook-order.js';
import { securityHeaderBlock } from './hooks/security-headers.js';
import type { ProviderLimiter } from '../limits/provider-limiter.js';
import type { KeyLimiter } from '../limits/key-limiter.js';
import { createStandaloneManagementServices, type ManagementServices } from '../management/services.js';
import { createStderrSecurityEvents } from '../credentials/security-events.js';
import './request-context.js';
import { registerClientRoutes } from './routes/client-route.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerManagementRoutes } from './routes/management.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerGeminiModelListRoute } from './routes/gemini.js';
import { registerModelListRoute } from './routes/openai.js';
import { clientRouteTable } from './routes/route-table.js';
import type { Runtime } from './runtime.js';

/** While the server drains, idle keep-alive sockets are closed this often (ms). */
const drainIdleCheckMs = 50;

export interface AppOptions {
  runtime: () => Runtime;
  upstream: UpstreamClient;
  /** OAuth refresh before each upstream attempt and on a 401 (oauth/refresh.ts). */
  credentials?: ChatPipelineDependencies['credentials'];
  logger: FastifyBaseLogger;
  now: () => number;
  isShuttingDown: () => boolean;
  /** Fixed at start: Fastify compiles the body limit and server timeouts into the server. */
  bodyLimitBytes: number;
  timeouts: { headersMs: number; requestMs: number; keepAliveMs: number };
  /** Largest request head Node's parser accepts (`server.max_header_bytes`); over it → 431. */
  maxHeaderBytes: number;
  accessLog: boolean;
  /** TLS termination (security/tls-material.ts): the listener is HTTPS with these options; absent, plain HTTP. */
  https?: TlsOptions;
  /** Security response headers (hooks/security-headers.ts); absent, none are added. HSTS only when `https` is set. */
  securityHeaders?: { hstsMaxAgeSeconds: number };
  /** CORS origins allowed to read client API answers (hooks/cors.ts); empty or absent, CORS stays off. */
  corsAllowedOrigins?: readonly string[];
  /**
   * mTLS for the management scope (hooks/management-client-certificate.ts): `https` must then ask for
   * client certificates (`requestCert`, the management CA as `ca`, `rejectUnauthorized: false`).
   */
  managementClientCertificate?: boolean;
  /** Subscribers of the per-request record, registered once here (after the access log, when it is on). */
  exchangeObservers?: readonly ExchangeObserver[];
  /** Hooks filling the named slots of the hook order (hooks/hook-order.ts); an absent one leaves its slot empty. */
  slotHooks?: Readonly<Partial<Record<HookSlot, onRequestHookHandler>>>;
  /** The audit log's authentication events (hooks/authenticate.ts); absent, none are reported. */
  authenticationEvents?: AuthenticationEvents;
  /**
   * `GET /metrics` in the management scope (metrics-observer.ts renders it); absent, the path answers
   * 404 behind the management key. The metrics observer itself comes in through `exchangeObservers`.
   */
  renderMetrics?: () => string | Promise<string>;
  /** Provider request and token budgets (limits/provider-limiter.ts), created once per process (main.ts); absent = not enforced. */
  providerLimiter?: ProviderLimiter;
  /** Client keys' rate limits, concurrency caps and budgets; absent = not enforced. */
  keyLimiter?: KeyLimiter;
  /**
   * The management API's services (main.ts builds them over the process's state backend, ban mirror
   * and credential store). Absent (tests, tools): an in-process set, so the lockout still holds.
   */
  management?: ManagementServices;
}

/** How often Node looks for sockets past `headers_ms` / `request_ms`, in milliseconds. */
const slowClientCheckMs = 1_000;

/** A client-sent request id is echoed only when it is a plain token; anything else is replaced. */
const safeRequestId = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Builds the Fastify app: three encapsulated scopes (public, client API, management), each with
 * the hooks of the one ordered list (hooks/hook-order.ts) that name it, then body limit + JSON
 * parse → schema → route in the client routes. Which scope a path is in decides which checks run;
 * no hook looks at the path.
 */
export function createApp(options: AppOptions): FastifyInstance {
  if (options.managementClientCertificate === true && (options.https?.requestCert !== true || options.https.ca === undefined)) {
    // Without requestCert no client sends a certificate and every management call would be refused.
    throw new Error('managementClientCertificate needs https with requestCert and the management CA');
  }
  // One block for the hook and for the raw answers of client-error.ts; HSTS only on the TLS listener.
  const securityHeaders =
    options.securityHeaders === undefined
      ? undefined
      : securityHeaderBlock({ tls: options.https !== undefined, hstsMaxAgeSeconds: options.securityHeaders.hstsMaxAgeSeconds });
  // Node's HTTP server options, for the plain and the TLS listener alike (Fastify passes `http` to
  // the plain one only; `https.createServer` takes the same options beside the TLS ones).
  const serverOptions = {
    maxHeaderSize: options.maxHeaderBytes,
    // Node checks the header and request timeouts on this interval (30 s by default), so a client
    // trickling its head could hold a socket up to 30 s past headers_ms. Checked every second.
    connectionsCheckingInterval: Math.min(slowClientCheckMs, options.timeouts.headersMs),
  };
  const app = Fastify({
    ...(options.https === undefined ? {} : { https: { ...options.https, ...serverOptions } }),
    loggerInstance: options.logger,
    // Fastify's two lines per request are replaced by our one access-log line (a subscriber of the exchange).
    logController: new LogController({ disableRequestLogging: true }),
    // The per-request child logger is made when the request first logs (request-logger.ts).
    childLoggerFactory: lazyRequestLoggerFactory,
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.timeouts.requestMs,
    keepAliveTimeout: options.timeouts.keepAliveMs,
    connectionTimeout: 0, // idle sockets are bounded by keep-alive; streams may be silent for minutes
    return503OnClosing: false, // answered by the shutdown-gate hook, in the path's error shape
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 256 },
    http: serverOptions,
    // 431, 408 and unparseable requests in the surface's error shape (client-error.ts).
    clientErrorHandler: createClientErrorHandler(options.logger, securityHeaders ?? []),
    genReqId: (request) => {
      const sent = request.headers['x-request-id'];
      return typeof sent === 'string' && safeRequestId.test(sent) ? sent : randomUUID();
    },
  });
  // Slowloris bound: headers must arrive within headersMs (Node requires it below requestTimeout).
  app.server.headersTimeout = Math.min(options.timeouts.headersMs, options.timeouts.requestMs);
  const config = () => options.runtime().loaded.config.server;
  installConnectionCap(app.server, {
    maxPerAddress: () => config().max_connections_per_ip,
    isExempt: trustedProxyExemption(() => config().trusted_proxies),
  });

  app.decorateRequest('rawBody', undefined);
  app.decorateRequest('principal', undefined);
  app.decorateRequest('routedProvider', undefined);
  app.decorateRequest('gatewayErrorCode', undefined);
  app.decorateRequest('exchange', undefined);
  app.decorateRequest('clientAddress', null);

  // With no observer registered the exchange-start hook is not installed and no record is built.
  const observers = new ExchangeObservers(
    [...(options.accessLog ? [createAccessLogObserver(options.logger)] : []), ...(options.exchangeObservers ?? [])],
    options.logger,
  );

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    createJsonBodyParser({ maxDepth: () => options.runtime().loaded.config.server.validation.max_json_depth }),
  );
  // No `100 Continue` before the key is checked: it is sent when the body parser starts reading,
  // after every onRequest hook (a server event, not a per-request hook: hooks/expect-continue.ts).
  deferContinue(app.server, { bodyLimitBytes: options.bodyLimitBytes });

  // While draining, a keep-alive socket that just went idle would hold shutdown open until its
  // keep-alive timeout: idle sockets are closed every 50 ms from the start of the close until the
  // server is closed. (Not an onResponse hook: that would run on every request to act only here.)
  app.addHook('preClose', (done) => {
    const closeIdle = setInterval(() => app.server.closeIdleConnections(), drainIdleCheckMs);
    closeIdle.unref();
    app.server.once('close', () => clearInterval(closeIdle));
    done();
  });

  installErrorHandler(app);
  const dependencies: ChatPipelineDependencies = {
    runtime: options.runtime,
    upstream: options.upstream,
    now: options.now,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(observers.active ? { observers } : {}),
    ...(options.providerLimiter === undefined ? {} : { providerLimiter: options.providerLimiter }),
    ...(options.keyLimiter === undefined ? {} : { keyLimiter: options.keyLimiter }),
  };
  const management =
    options.management ?? createStandaloneManagementServices(createStderrSecurityEvents(), options.runtime().loaded.config.management.totp_file);
  const hooks = compileRequestHooks(requestHookOrder, {
    management,
    runtime: options.runtime,
    isShuttingDown: options.isShuttingDown,
    bodyLimitBytes: options.bodyLimitBytes,
    observers,
    slotHooks: options.slotHooks ?? {},
    ...(securityHeaders === undefined ? {} : { securityHeaders }),
    ...(options.corsAllowedOrigins === undefined ? {} : { corsAllowedOrigins: options.corsAllowedOrigins }),
    ...(options.authenticationEvents === undefined ? {} : { authenticationEvents: options.authenticationEvents }),
    ...(options.managementClientCertificate === true ? { managementClientCertificate: true } : {}),
  });
  // Plain (not fastify-plugin) registrations: each is encapsulated, so its hooks reach its routes only.
  app.register((scope, _options, done) => {
    hooks.install(scope, 'public');
    registerHealthRoutes(scope, options.isShuttingDown);
    done();
  });
  app.register((scope, _options, done) => {
    hooks.install(scope, 'client');
    // Unknown paths belong here: without a client key they get 401 like the API, so an
    // unauthenticated caller cannot map which paths exist.
    installNotFoundHandler(scope);
    registerClientRoutes(scope, dependencies, clientRouteTable);
    registerModelListRoute(scope, dependencies);
    registerGeminiModelListRoute(scope, dependencies);
    done();
  });
  app.register((scope, _options, done) => {
    hooks.install(scope, 'management');
    registerMetricsRoute(scope, options.renderMetrics);
    registerManagementRoutes(scope, { runtime: options.runtime, services: management });
    done();
  });
  return app;
}
