import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { runWithFailover } from '../routing/failover.js';
import { isFirstByteTimeout, UpstreamAbort, type StreamingUpstreamResponse, type UpstreamClient } from '../upstream/client.js';
import { sendWithFreshCredential, type UpstreamCredentialHooks } from '../oauth/refresh-retry.js';
import type { WireFormat } from '../formats/wire-format.js';
import type { MapErrorInput, UpstreamCredential, UpstreamOperation, UpstreamRequestTarget } from '../providers/types.js';
import { deviceFingerprintHeaders } from '../security/fingerprint.js';
import { redactText } from '../security/redact.js';
import { createSecretStreamRedactor, redactRegisteredSecrets } from '../security/secret-stream-redactor.js';
import { bridgeFor } from './bridges/registry.js';
import { outputBeforeFailure } from './bridges/sse-transformer.js';
import type { BridgeContext, StreamTransformer } from './bridges/types.js';
import { parseUpstreamJson } from './bridges/upstream-json.js';
import type { ProviderRuntime, Runtime } from './runtime.js';
import { errorShapeOf, streamErrorEvent, type ErrorShape } from './error-shape.js';

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
}

export interface ChatInput {
  /** The wire format of the client's route; with the provider's format it picks the bridge. */
  clientFormat: WireFormat;
  body: Record<string, unknown>;
  model: string;
  stream: boolean;
}

/** Resolves the model to a provider, or a 404 naming the model. */
export function resolveProvider(runtime: Runtime, model: string): { provider: ProviderRuntime; upstreamModel: string } {
  const route = runtime.router.resolve(model);
  const provider = route === undefined ? undefined : runtime.providers.get(route.provider);
  if (route === undefined || provider === undefined) {
    throw new GatewayError('GW_MODEL_NOT_FOUND', { message: `The model '${model}' is not served by this gateway.` });
  }
  return { provider, upstreamModel: route.upstreamModel };
}

/**
 * Aborts the upstream call when the client goes away. `close` on the response also fires after a
 * normal finish, so only an unfinished response counts as a disconnect.
 */
export function abortOnClientClose(reply: FastifyReply): UpstreamAbort {
  const controller = new UpstreamAbort();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller;
}

/** What one upstream call needs besides the credential. */
interface UpstreamCall {
  request: FastifyRequest;
  provider: ProviderRuntime;
  operation: UpstreamOperation;
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
async function withFailover<Response extends { statusCode: number }>(
  dependencies: ChatPipelineDependencies,
  call: UpstreamCall,
  stream: boolean,
  io: {
    send: (target: UpstreamRequestTarget) => Promise<Response>;
    /** Releases an answer that is dropped (the 401 before a refresh and resend). */
    discard: (response: Response) => Promise<void>;
    /** The error body and headers of an answer with an error status. */
    errorDetails: (response: Response) => Promise<{ headers: MapErrorInput['headers']; bodyText: string }>;
  },
): Promise<Response> {
  const { provider } = call;
  const runtime = dependencies.runtime();
  const extraHeaders = deviceFingerprintHeaders(provider.config, runtime.loaded.config.auth.dir);
  const failoverOnFirstByteTimeout = runtime.loaded.config.upstream.failover_on_first_byte_timeout;
  return runWithFailover({
    pool: provider.pool,
    provider: provider.name,
    maxAttempts: provider.pool.size === 0 ? 1 : Math.min(runtime.loaded.config.upstream.max_attempts, provider.pool.size),
    signal: call.signal,
    attempt: async (credential) => {
      const build = (fresh: UpstreamCredential): UpstreamRequestTarget =>
        provider.adapter.buildRequest({
          operation: call.operation,
          credential: fresh,
          baseUrl: provider.baseUrl,
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
      if (response.statusCode >= 300) {
        const details = await io.errorDetails(response);
        throw provider.adapter.mapError({ provider: provider.name, status: response.statusCode, headers: details.headers, bodyText: redactText(details.bodyText) });
      }
      return response;
    },
  });
}

/** A streamed call: resolves with the unread body once the upstream answered 2xx/3xx. */
export function sendUpstream(dependencies: ChatPipelineDependencies, call: UpstreamCall): Promise<StreamingUpstreamResponse> {
  const provider = call.provider.name;
  return withFailover(dependencies, call, true, {
    send: (target) => dependencies.upstream.sendStreaming({ provider, url: target.url, headers: target.headers, body: call.body, signal: call.signal }),
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
  const response = await withFailover(dependencies, call, false, {
    send: (target) => dependencies.upstream.sendBuffered({ provider, url: target.url, headers: target.headers, body: call.body, signal: call.signal }, limitBytes),
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

/** Handles one chat request (OpenAI chat completion or Anthropic message), streamed or not. */
export async function runChat(dependencies: ChatPipelineDependencies, request: FastifyRequest, reply: FastifyReply, input: ChatInput): Promise<void> {
  const runtime = dependencies.runtime();
  const { provider, upstreamModel } = resolveProvider(runtime, input.model);
  request.routedProvider = provider.name;
  const bridge = bridgeFor(input.clientFormat, provider.adapter.format);
  if (bridge === undefined) {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', {
      message: `The ${input.clientFormat} format cannot reach provider '${provider.name}' (${provider.adapter.format}) yet.`,
    });
  }
  const context: BridgeContext = {
    requestedModel: input.model,
    upstreamModel,
    created: Math.floor(dependencies.now() / 1000),
    requestId: request.id,
    clientBody: input.body,
  };
  const upstreamBody = bridge.upstreamBody(context, rawBodyOf(request), { defaultMaxTokens: runtime.loaded.config.upstream.default_max_tokens });
  const call: UpstreamCall = { request, provider, operation: 'chat', body: upstreamBody, signal: abortOnClientClose(reply) };
  if (!input.stream) {
    const body = await fetchUpstreamAnswer(dependencies, call, maxUpstreamJsonBytes);
    await reply.code(200).header('content-type', 'application/json').send(bridge.jsonResponse(body, context));
    return;
  }
  const response = await sendUpstream(dependencies, call);
  const transformer = bridge.streamTransformer(context);
  await relayStream(request, reply, response, transformer, errorShapeOf(request.url, request.headers), provider.name, call.signal);
}

/** Headers of an SSE answer, on top of those the hooks set (x-request-id, security headers). */
const streamHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no', // reverse proxies must not buffer SSE
} as const;

/**
 * Relays the upstream stream to the client, one upstream piece at a time, written straight to the
 * socket's response (Fastify's stream piping costs a Readable, an async generator and a pipe per
 * stream, and several promise hops per chunk). Each piece is written as it arrives, so the first
 * byte leaves when it arrives (no buffering). Backpressure is explicit: when the client's socket
 * buffer is full (`write` returns false) the upstream body is paused until `drain`, so a slow
 * client slows the upstream read (TCP backpressure) instead of growing a buffer in the gateway.
 *
 * Every upstream piece first passes the secret stream redactor (registered upstream keys and tokens
 * masked, on every bridge; it holds back only a tail that could start a secret, which an SSE piece
 * ending in '\n' never has), then the bridge's transformer.
 *
 * After the first byte there is no failover: a mid-stream failure becomes one error event in the
 * client's own format, then the stream ends cleanly. A client that hangs up aborts the upstream
 * call (abortOnClientClose) and the relay stops without writing. Resolves when the relay is over;
 * never rejects.
 */
function relayStream(
  request: FastifyRequest,
  reply: FastifyReply,
  response: StreamingUpstreamResponse,
  transformer: StreamTransformer,
  errorShape: ErrorShape,
  providerName: string,
  signal: UpstreamAbort,
): Promise<void> {
  const client = reply.raw;
  const upstream = response.body;
  reply.hijack();
  client.writeHead(200, { ...(reply.getHeaders() as OutgoingHttpHeaders), ...streamHeaders });
  return new Promise<void>((resolve) => {
    let finished = false;
    const finish = (tail: string | Buffer | undefined): void => {
      if (finished) return;
      finished = true;
      client.off('drain', onDrain);
      upstream.destroy();
      if (!client.destroyed) {
        if (tail !== undefined && tail.length > 0) client.end(tail);
        else client.end();
      }
      resolve();
    };
    const fail = (error: unknown): void => {
      if (finished) return;
      if (signal.aborted || client.destroyed) return finish(undefined); // the client left; nobody to tell
      // Everything the upstream sent before the failure reaches the client first, then the error.
      const { output, cause } = outputBeforeFailure(transformer, error);
      if (output.length > 0) write(output);
      const failure = isGatewayError(cause)
        ? cause
        : new GatewayError('GW_UPSTREAM_STREAM_FAILED', { provider: providerName, message: `The stream from provider '${providerName}' failed part-way.`, cause });
      request.log.warn({ code: failure.code, provider: providerName, err_message: failure.message }, 'upstream stream failed');
      finish(streamErrorEvent(errorShape, failure));
    };
    // Coalescing without delay: the upstream body arrives as one piece per upstream HTTP chunk,
    // often twenty from one socket read, and each write would be its own syscall. The socket is
    // corked at the first write of a tick and uncorked in a microtask, which runs once the current
    // socket read is fully handled (its last piece and the end of the answer included): everything
    // relayed from one read leaves in one writev. Nothing waits for more I/O.
    let corked = false;
    const uncork = (): void => {
      corked = false;
      client.uncork();
    };
    const write = (output: string | Buffer): boolean => {
      if (!corked) {
        corked = true;
        client.cork();
        queueMicrotask(uncork);
      }
      return client.write(output);
    };
    const secretRedactor = createSecretStreamRedactor();
    const onDrain = (): void => upstream.resume();
    client.on('drain', onDrain);
    client.once('close', () => finish(undefined));
    upstream.attach({
      onData: (piece) => {
        if (finished) return;
        let output: string | Buffer;
        try {
          output = transformer.push(secretRedactor === undefined ? piece : secretRedactor.push(piece));
        } catch (error) {
          fail(error);
          return;
        }
        if (output.length > 0 && !write(output)) upstream.pause();
      },
      onEnd: () => {
        if (finished) return;
        let tail: string | Buffer;
        try {
          const held = secretRedactor?.flush();
          if (held !== undefined && held.length > 0) {
            const output = transformer.push(held);
            if (output.length > 0) write(output);
          }
          tail = transformer.flush();
        } catch (error) {
          fail(error);
          return;
        }
        finish(tail);
      },
      onError: fail,
    });
  });
}
