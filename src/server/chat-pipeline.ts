import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { runWithFailover } from '../routing/failover.js';
import { performance } from 'node:perf_hooks';
import { isFirstByteTimeout, UpstreamAbort, type StreamingUpstreamResponse, type UpstreamClient } from '../upstream/client.js';
import { sendWithFreshCredential, type UpstreamCredentialHooks } from '../oauth/refresh-retry.js';
import type { WireFormat } from '../formats/wire-format.js';
import type { MapErrorInput, UpstreamCredential, UpstreamOperation, UpstreamRequestTarget } from '../providers/types.js';
import { deviceFingerprintHeaders } from '../security/fingerprint.js';
import { describeScope, policyAllows } from '../security/key-policy.js';
import type { Principal } from '../security/principal.js';
import { redactText } from '../security/redact.js';
import { redactRegisteredSecrets } from '../security/secret-stream-redactor.js';
import { bridgeFor } from './bridges/registry.js';
import type { BridgeContext } from './bridges/types.js';
import { unwrappedStream } from './bridges/envelope-stream.js';
import { checkRelayedAnswer, usageOfRelayedAnswer } from './bridges/answer-scan.js';
import { usageFromAnswer } from './bridges/usage.js';
import { parseUpstreamJson } from './bridges/upstream-json.js';
import type { ProviderRuntime, Runtime } from './runtime.js';
import { errorShapeOf } from './error-shape.js';
import { elapsedMs, type ExchangeObservers } from './exchange.js';
import { relayStream } from './stream-relay.js';
import type { ProviderLimiter } from '../limits/provider-limiter.js';
import type { KeyLimiter } from '../limits/key-limiter.js';
import { admitRequest, refuseUnsentRequest } from './request-limits.js';
import { onResponseClose } from './response-close.js';

/** A non-streamed upstream answer is read at most this far (32 MiB) before it is called bad. */
const maxUpstreamJsonBytes = 32 * 1024 * 1024;

/** An upstream error body is read at most this far (16 KiB): enough for any real error message. */
const maxErrorBodyBytes = 16 * 1024;

export interface ChatPipelineDependencies {
  runtime: () => Runtime;
  upstream: UpstreamClient;
  now: () => number;
  /** OAuth refresh before each attempt and on a 401 (oauth/refresh.ts); absent = credentials used as they are. */
  credentials?: UpstreamCredentialHooks;
  /** The exchange observers registered at start; absent or inactive = no per-request record. */
  observers?: ExchangeObservers;
  /** Provider request and token budgets (`providers.<name>.rate_limit`); absent = not enforced (unit tests). */
  providerLimiter?: ProviderLimiter;
  /** Client keys' rate limits, concurrency caps and budgets (limits/key-limiter.ts); absent = not enforced (unit tests). */
  keyLimiter?: KeyLimiter;
}

export interface ChatInput {
  /** The wire format of the client's route; with the provider's format it picks the bridge. */
  clientFormat: WireFormat;
  body: Record<string, unknown>;
  model: string;
  stream: boolean;
  /** See BridgeContext.streamFraming; SSE when absent. */
  streamFraming?: 'sse' | 'json-array';
}

/**
 * Resolves the model to a provider, or a 404 naming the model; then the client key's scope
 * (key-policy.ts): a model or provider outside it is 403 GW_MODEL_NOT_ALLOWED naming what the key
 * may use, never what else exists. Every route that reaches an upstream passes here (chat,
 * count_tokens, Gemini, Responses), so the scope cannot be missed by one of them.
 */
export function resolveProvider(
  runtime: Runtime,
  model: string,
  principal: Principal | undefined,
): { provider: ProviderRuntime; upstreamModel: string; eligible: ((credential: UpstreamCredential) => boolean) | undefined } {
  const route = runtime.router.resolve(model);
  const provider = route === undefined ? undefined : runtime.providers.get(route.provider);
  if (route === undefined || provider === undefined) {
    throw new GatewayError('GW_MODEL_NOT_FOUND', { message: `The model '${model}' is not served by this gateway.` });
  }
  if (principal !== undefined && principal.policy.scoped && !policyAllows(principal.policy, provider.name, model, route.upstreamModel)) {
    throw new GatewayError('GW_MODEL_NOT_ALLOWED', { message: `The API key '${principal.id}' may not use the model '${model}'; it may use ${describeScope(principal.policy)}.` });
  }
  // Switched off through the management API: refused before any budget or credential is touched.
  if (runtime.disabledProviders.isDisabled(provider.name)) throw new GatewayError('GW_PROVIDER_DISABLED', { provider: provider.name });
  const narrowed = route.credentialIds !== undefined || hasKeyExclusions(provider);
  return { provider, upstreamModel: route.upstreamModel, eligible: narrowed ? eligibleCredentials(route.credentialIds, route.upstreamModel) : undefined };
}

/** Whether any config key of the provider has `excluded_models`; remembered per (frozen) provider config. */
const keyExclusions = new WeakMap<object, boolean>();
function hasKeyExclusions(provider: ProviderRuntime): boolean {
  let known = keyExclusions.get(provider.config);
  if (known === undefined) {
    known = provider.config.api_keys.some((key) => typeof key !== 'string' && (key.excluded_models?.length ?? 0) > 0);
    keyExclusions.set(provider.config, known);
  }
  return known;
}

/**
 * The credentials that may serve one request: those a key-declared model names (`api_keys[].models`),
 * minus keys whose `excluded_models` match the upstream model. Undefined (every credential) in the
 * common case, so the pool's pick does no extra call.
 */
function eligibleCredentials(credentialIds: ReadonlySet<string> | undefined, upstreamModel: string): (credential: UpstreamCredential) => boolean {
  return (credential) => {
    if (credentialIds !== undefined && !credentialIds.has(credential.id)) return false;
    return credential.kind !== 'api_key' || credential.excludedModels?.matches(upstreamModel) !== true;
  };
}

/** Where a response keeps the upstream call to abort when its client goes away. */
const upstreamAbortOf = Symbol('upstream-abort');
type AbortingResponse = ServerResponse & { [upstreamAbortOf]?: UpstreamAbort };

/** The one close task of every response that calls upstream (no closure per request). */
function abortIfUnfinished(response: AbortingResponse): void {
  if (!response.writableFinished) response[upstreamAbortOf]?.abort();
}

/**
 * Aborts the upstream call when the client goes away. `close` on the response also fires after a
 * normal finish, so only an unfinished response counts as a disconnect.
 */
export function abortOnClientClose(reply: FastifyReply): UpstreamAbort {
  const response = reply.raw as AbortingResponse;
  const existing = response[upstreamAbortOf];
  if (existing !== undefined) return existing;
  const controller = new UpstreamAbort();
  response[upstreamAbortOf] = controller;
  onResponseClose(response, abortIfUnfinished);
  return controller;
}

/** How withFailover sends, drops and reads an answer: the streamed and the buffered call differ only here. */
interface FailoverIo<Response> {
  send: (target: UpstreamRequestTarget) => Promise<Response>;
  /** Releases an answer that is dropped (the 401 before a refresh and resend). */
  discard: (response: Response) => Promise<void>;
  /** The error body and headers of an answer with an error status. */
  errorDetails: (response: Response) => Promise<{ headers: MapErrorInput['headers']; bodyText: string }>;
}

/** What one upstream call needs besides the credential. */
interface UpstreamCall {
  request: FastifyRequest;
  provider: ProviderRuntime;
  operation: UpstreamOperation;
  /** The model name sent upstream (Gemini's URL carries it). */
  upstreamModel: string;
  /** The credentials that may serve it (resolveProvider); absent = all. */
  eligible?: ((credential: UpstreamCredential) => boolean) | undefined;
  body: string | Buffer;
  signal: UpstreamAbort;
}

/**
 * Runs one call with failover across the provider's credentials. Every failure here happens before
 * the first byte reaches the client, which is what makes retrying safe. Each attempt keeps its
 * credential fresh (sendWithFreshCredential: refresh before use, one refresh-and-resend on a 401)
 * and adds the provider's opt-in X-Device-Fingerprint; an error status left after that becomes the
 * adapter's GatewayError, which failover acts on. A redirect counts as an error status: the gateway
 * follows none, and relaying a 3xx body as a 200 answer would hand the client an HTML page.
 *
 * The error body is redacted before the adapter reads it: the adapter cuts the message to a few
 * hundred characters, and a key straddling that cut would no longer be recognisable afterwards.
 */
function withFailover<Response extends { statusCode: number }>(
  dependencies: ChatPipelineDependencies,
  call: UpstreamCall,
  stream: boolean,
  io: FailoverIo<Response>,
): Promise<Response> {
  // Not an async function: it hands back runWithFailover's promise, and an async wrapper would add a
  // promise and two jobs per request. What throws before that becomes the same rejection.
  try {
    const { provider } = call;
    const runtime = dependencies.runtime();
    const extraHeaders = deviceFingerprintHeaders(provider.config, runtime.loaded.config.auth.dir);
    const failoverOnFirstByteTimeout = runtime.loaded.config.upstream.failover_on_first_byte_timeout;
    const observers = dependencies.observers;
    const exchange = observers === undefined ? undefined : call.request.exchange;
    /**
     * One attempt with one credential. With a record, the attempt is added to it (credential, the
     * upstream's status when it answered, milliseconds, and the catalog code it failed with: why
     * failover moved on), here rather than in a wrapper: one async step less per request.
     */
    const attempt = async (credential: UpstreamCredential): Promise<Response> => {
      const started = exchange === undefined ? 0 : performance.now();
      let status: number | undefined;
      try {
        const build = (fresh: UpstreamCredential): UpstreamRequestTarget =>
          provider.adapter.buildRequest({
            operation: call.operation,
            credential: fresh,
            baseUrl: provider.baseUrl,
            model: call.upstreamModel,
            stream,
            clientHeaders: call.request.headers,
            ...(extraHeaders === undefined ? {} : { extraHeaders }),
          });
        let response: Response;
        try {
          response = await sendWithFreshCredential(dependencies.credentials, credential, (fresh) => io.send(build(fresh)), io.discard);
        } catch (error) {
          // Opt-in only: the request was sent, a resend may be billed twice (see transportError).
          if (failoverOnFirstByteTimeout && isFirstByteTimeout(error)) {
            throw new GatewayError(error.code, { provider: provider.name, retryable: true, message: error.message, cause: error.cause });
          }
          throw error;
        }
        status = response.statusCode;
        if (response.statusCode >= 300) {
          const details = await io.errorDetails(response);
          throw provider.adapter.mapError({ provider: provider.name, status: response.statusCode, headers: details.headers, bodyText: redactText(details.bodyText) });
        }
        if (exchange !== undefined) observers?.notifyAttempt(exchange, { credentialId: credential.id, status, ms: millisecondsSince(started), failure: undefined });
        return response;
      } catch (error) {
        if (exchange !== undefined) {
          observers?.notifyAttempt(exchange, { credentialId: credential.id, status, ms: millisecondsSince(started), failure: isGatewayError(error) ? error.code : 'aborted' });
        }
        throw error;
      }
    };
    return runWithFailover({
      ...(call.eligible === undefined ? {} : { eligible: call.eligible }),
      pool: provider.pool,
      provider: provider.name,
      maxAttempts: provider.pool.size === 0 ? 1 : Math.min(runtime.loaded.config.upstream.max_attempts, provider.pool.size),
      signal: call.signal,
      attempt,
    });
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Milliseconds since `started` (performance.now()), one decimal. */
function millisecondsSince(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** A streamed call: resolves with the unread body once the upstream answered 2xx/3xx. */
export function sendUpstream(dependencies: ChatPipelineDependencies, call: UpstreamCall): Promise<StreamingUpstreamResponse> {
  const provider = call.provider.name;
  const allowPrivateNetwork = call.provider.config.allow_private_network === true;
  return withFailover(dependencies, call, true, {
    send: (target) => dependencies.upstream.sendStreaming({ provider, url: target.url, headers: target.headers, body: call.body, signal: call.signal, allowPrivateNetwork }),
    discard: async (response) => {
      await response.body.readText(maxErrorBodyBytes);
    },
    errorDetails: async (response) => ({ headers: response.headers, bodyText: await response.body.readText(maxErrorBodyBytes) }),
  });
}

/**
 * A non-streamed call: resolves with the whole success body (at most `limitBytes`), registered
 * secrets masked (an upstream echoing its key in a 200 answer must not hand it to the client).
 */
async function fetchUpstreamAnswer(dependencies: ChatPipelineDependencies, call: UpstreamCall, limitBytes: number): Promise<Buffer> {
  const provider = call.provider.name;
  const allowPrivateNetwork = call.provider.config.allow_private_network === true;
  const response = await withFailover(dependencies, call, false, {
    send: (target) => dependencies.upstream.sendBuffered({ provider, url: target.url, headers: target.headers, body: call.body, signal: call.signal, allowPrivateNetwork }, limitBytes),
    discard: () => Promise.resolve(),
    errorDetails: (answer) => Promise.resolve({ headers: answer.headers, bodyText: answer.body.toString('utf8') }),
  });
  return redactRegisteredSecrets(response.body);
}

/**
 * A non-streamed call whose answer is relayed as it is (count_tokens): like the chat path, a body
 * that is not JSON (an HTML page from a proxy in front of the upstream) is GW_UPSTREAM_BAD_RESPONSE.
 */
export async function sendUpstreamBuffered(dependencies: ChatPipelineDependencies, call: UpstreamCall, limitBytes: number): Promise<Buffer> {
  const exchange = dependencies.observers === undefined ? undefined : call.request.exchange;
  if (exchange !== undefined && exchange.route === undefined) {
    const model = (call.request.body as { model?: unknown } | undefined)?.model;
    exchange.requestedModel = typeof model === 'string' ? model : undefined;
    exchange.route = { provider: call.provider.name, upstreamModel: undefined, bridge: `${call.provider.adapter.format}-${call.operation}` };
    dependencies.observers?.notify('routed', exchange);
  }
  const body = await fetchUpstreamAnswer(dependencies, call, limitBytes);
  parseUpstreamJson(body);
  return body;
}

/**
 * The client's original body bytes. The JSON content-type parser always keeps them; the
 * re-serialisation is only a fallback for a request that reached a route without that parser.
 */
export function rawBodyOf(request: FastifyRequest): Buffer {
  return request.rawBody ?? Buffer.from(JSON.stringify(request.body));
}

/** What the parsed body is replaced with once it is let go: an object, as the fields' types say. */
const releasedBody: Record<string, unknown> = Object.freeze({});

/**
 * Lets go of the parsed client body once nothing after the upstream call reads it: the upstream
 * body is built (a failover resends those bytes), and either the request streams (every bridge's
 * stream transformer is made by then and took what it needs of the request at creation) or its
 * JSON answer does not read the request (a pass-through, and every translation but to a Responses
 * client, whose answer echoes the request: `answerReadsRequest`). Without this the tree of every
 * request in flight (a ~100 KB Claude Code body parses into a few hundred KB of small objects)
 * stays reachable until the answer is sent, so each young-generation GC copies the trees of all
 * in-flight requests and promotes them to the old generation (on the ~100 KB structured body,
 * 55-83 µs of scavenging per request against 19-29 with this; see docs/benchmarks.md), and a
 * stream holds its tree for as long as it runs: minutes, for an agent's long answer.
 */
function releaseParsedBody(request: FastifyRequest, input: ChatInput, context: BridgeContext): void {
  request.body = undefined;
  input.body = releasedBody;
  context.clientBody = releasedBody;
}

/**
 * Writes a JSON answer straight to the response, like the stream relay: the headers the hooks set
 * (request id, security headers) plus the type and length, then the body in one `end`. Fastify's
 * `send` would get there through its payload checks, its onSend step and a separate `write` and
 * `end` (a cork and a tick); nothing in between applies to a finished body (no onSend hook is
 * registered, and the reply's onResponse listeners still run, they hang on the response).
 */
function sendJsonAnswer(reply: FastifyReply, output: string | Buffer): void {
  reply.hijack();
  const headers = reply.getHeaders() as OutgoingHttpHeaders;
  headers['content-type'] = 'application/json';
  headers['content-length'] = typeof output === 'string' ? Buffer.byteLength(output) : output.length;
  reply.raw.writeHead(200, headers);
  reply.raw.end(output);
}

/** Handles one chat request (OpenAI chat completion, Anthropic message, Gemini generateContent), streamed or not. */
export async function runChat(dependencies: ChatPipelineDependencies, request: FastifyRequest, reply: FastifyReply, input: ChatInput): Promise<void> {
  const runtime = dependencies.runtime();
  const { observers } = dependencies;
  const exchange = observers === undefined ? undefined : request.exchange;
  if (exchange !== undefined) {
    exchange.surface = input.clientFormat;
    exchange.requestedModel = input.model;
  }
  const { provider, upstreamModel, eligible } = resolveProvider(runtime, input.model, request.principal);
  request.routedProvider = provider.name;
  // Before the limits: a request refused here must not take a slot of them.
  const bridge = bridgeFor(input.clientFormat, provider.adapter.format);
  if (bridge === undefined) {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', {
      message: `The ${input.clientFormat} format cannot reach provider '${provider.name}' (${provider.adapter.format}) yet.`,
    });
  }
  // Only a key with limits, and only a provider with a budget, pay for an estimate and an await.
  const admitting = admitRequest(dependencies, request, reply, provider, input.body, runtime.loaded.config.upstream.default_max_tokens);
  if (admitting !== undefined) await admitting;
  const context: BridgeContext = {
    requestedModel: input.model,
    upstreamModel,
    created: Math.floor(dependencies.now() / 1000),
    requestId: request.id,
    clientBody: input.body,
    stream: input.stream,
    streamFraming: input.streamFraming ?? 'sse',
  };
  if (exchange !== undefined) {
    exchange.route = { provider: provider.name, upstreamModel, bridge: bridge.name };
    observers?.notify('routed', exchange);
  }
  let bridgeBody: string | Buffer;
  try {
    bridgeBody = bridge.upstreamBody(context, rawBodyOf(request), { defaultMaxTokens: runtime.loaded.config.upstream.default_max_tokens });
  } catch (error) {
    // Content the bridge cannot carry (400), found after the limits admitted the request: nothing
    // was sent, so what it reserved goes back, and the 400 leaves once that is done (Redis).
    return refuseUnsentRequest(reply, error);
  }
  // Gemini's Code Assist wraps the wire format in an envelope: in around the bridge's body, out before the bridge reads.
  const envelope = provider.adapter.envelopeFor?.({ baseUrl: provider.baseUrl, model: upstreamModel, provider: provider.config });
  const upstreamBody = envelope === undefined ? bridgeBody : envelope.wrapRequest(bridgeBody);
  const call: UpstreamCall = { request, provider, operation: 'chat', upstreamModel, eligible, body: upstreamBody, signal: abortOnClientClose(reply) };
  // Made before the upstream is called (not when it answers), so that the parsed body can be let go first.
  const transformer = !input.stream ? undefined : envelope === undefined ? bridge.streamTransformer(context) : unwrappedStream(envelope, bridge.streamTransformer(context));
  if (transformer !== undefined || bridge.answerReadsRequest !== true) releaseParsedBody(request, input, context);
  if (transformer === undefined) {
    const received = await fetchUpstreamAnswer(dependencies, call, maxUpstreamJsonBytes);
    const body = envelope === undefined ? received : envelope.unwrapAnswer(received);
    // A body that is not JSON is a 502 on every bridge. Translators read the parsed answer (and the
    // usage comes from it); a relayed answer is checked by its ends and its usage read from its end.
    const relayed = bridge.relaysAnswerBytes === true;
    const answer = relayed ? undefined : bridge.parseAnswer !== undefined ? bridge.parseAnswer(body) : parseUpstreamJson(body);
    if (relayed) checkRelayedAnswer(body);
    const output = bridge.jsonResponse(body, answer, context);
    if (exchange !== undefined) {
      exchange.usage = relayed ? usageOfRelayedAnswer(provider.adapter.format, body) : usageFromAnswer(provider.adapter.format, answer);
      if (exchange.usage !== undefined) observers?.notify('usage', exchange);
      exchange.firstByteMs = elapsedMs(exchange);
      observers?.notify('firstByte', exchange);
    }
    sendJsonAnswer(reply, output);
    return;
  }
  const response = await sendUpstream(dependencies, call);
  await relayStream(request, reply, response, {
    transformer,
    errorShape: errorShapeOf(request.url, request.headers),
    providerName: provider.name,
    upstreamFormat: provider.adapter.format,
    translated: bridge.clientFormat !== bridge.upstreamFormat,
    signal: call.signal,
    observers,
  });
}
