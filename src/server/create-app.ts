import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { UpstreamClient } from '../upstream/client.js';
import { createAccessLogObserver } from './access-log.js';
import type { ChatPipelineDependencies } from './chat-pipeline.js';
import { installErrorHandlers } from './error-handler.js';
import { ExchangeObservers, type ExchangeObserver } from './exchange.js';
import { createJsonBodyParser } from './hooks/body-parser.js';
import { createClientKeyHook } from './hooks/client-key.js';
import { createContinueHook, deferContinue } from './hooks/expect-continue.js';
import { createShutdownGate } from './hooks/shutdown-gate.js';
import './request-context.js';
import { registerAnthropicRoutes } from './routes/anthropic.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerOpenAIRoutes } from './routes/openai.js';
import type { Runtime } from './runtime.js';

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
  accessLog: boolean;
  /** Subscribers of the per-request record, registered once here (after the access log, when it is on). */
  exchangeObservers?: readonly ExchangeObserver[];
}

/** A client-sent request id is echoed only when it is a plain token; anything else is replaced. */
const safeRequestId = /^[A-Za-z0-9._:-]{1,64}$/;

/** Paths that answer without a client key. They must reveal nothing. */
const publicPaths = new Set(['/healthz', '/readyz']);

/**
 * Builds the Fastify app. Order of the checks per request follows DESIGN.md (cheapest first):
 * client key (onRequest, before the body is read) → body limit + JSON parse → schema → route.
 * The IP filter and per-IP limiter of the network-security layer plug in as onRequest hooks
 * registered before the client-key hook.
 */
export function createApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    // Fastify's two lines per request are replaced by our one access-log line (a subscriber of the exchange).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.timeouts.requestMs,
    keepAliveTimeout: options.timeouts.keepAliveMs,
    connectionTimeout: 0, // idle sockets are bounded by keep-alive; streams may be silent for minutes
    return503OnClosing: false, // answered by our own hook below, in the path's error shape
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 256 },
    genReqId: (request) => {
      const sent = request.headers['x-request-id'];
      return typeof sent === 'string' && safeRequestId.test(sent) ? sent : randomUUID();
    },
  });
  // Slowloris bound: headers must arrive within headersMs (Node requires it below requestTimeout).
  app.server.headersTimeout = Math.min(options.timeouts.headersMs, options.timeouts.requestMs);

  app.decorateRequest('rawBody', undefined);
  app.decorateRequest('principal', undefined);
  app.decorateRequest('routedProvider', undefined);
  app.decorateRequest('gatewayErrorCode', undefined);
  app.decorateRequest('exchange', undefined);

  // The per-request record starts before any other hook can answer (a 401 is recorded too). With no
  // observer registered there is no hook at all.
  const observers = new ExchangeObservers(
    [...(options.accessLog ? [createAccessLogObserver(options.logger)] : []), ...(options.exchangeObservers ?? [])],
    options.logger,
  );
  if (observers.active) {
    app.addHook('onRequest', (request, reply, done) => {
      request.exchange = observers.start(request, reply);
      done();
    });
  }

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, createJsonBodyParser());
  // No `100 Continue` before the key is checked: the continue hook sends it after the onRequest hooks.
  deferContinue(app.server);

  const shutdownGate = createShutdownGate({ isShuttingDown: options.isShuttingDown });
  const clientKey = createClientKeyHook({ authenticator: () => options.runtime().authenticator });
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    const path = request.url.split('?', 1)[0] ?? request.url;
    if (publicPaths.has(path)) return done();
    shutdownGate.call(app, request, reply, () => clientKey.call(app, request, reply, done));
  });
  app.addHook('preParsing', createContinueHook({ bodyLimitBytes: options.bodyLimitBytes }));

  app.addHook('onResponse', (request, reply, done) => {
    // While draining, a keep-alive socket that just went idle would hold shutdown open until its
    // keep-alive timeout; close idle sockets as each in-flight response completes.
    if (options.isShuttingDown()) setImmediate(() => app.server.closeIdleConnections());
    done();
  });

  installErrorHandlers(app);
  const dependencies: ChatPipelineDependencies = {
    runtime: options.runtime,
    upstream: options.upstream,
    now: options.now,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(observers.active ? { observers } : {}),
  };
  registerHealthRoutes(app, options.isShuttingDown);
  registerOpenAIRoutes(app, dependencies);
  registerAnthropicRoutes(app, dependencies);
  return app;
}
