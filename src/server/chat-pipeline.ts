import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { runWithFailover } from '../routing/failover.js';
import { readBody, readErrorBody, type UpstreamClient, type UpstreamResponse } from '../upstream/client.js';
import type { UpstreamOperation } from '../providers/types.js';
import { bridgeFor } from './bridges/registry.js';
import type { BridgeContext, StreamTransformer } from './bridges/types.js';
import type { ProviderRuntime, Runtime } from './runtime.js';
import { streamErrorEvent, type Surface } from './surface.js';

/** A non-streamed upstream answer is read at most this far (32 MiB) before it is called bad. */
const maxUpstreamJsonBytes = 32 * 1024 * 1024;

export interface ChatPipelineDependencies {
  runtime: () => Runtime;
  upstream: UpstreamClient;
  now: () => number;
}

export interface ChatInput {
  surface: Surface;
  body: Record<string, unknown>;
  raw: Buffer;
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
export function abortOnClientClose(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller;
}

/**
 * Sends the request upstream with failover across the provider's credentials. Every failure here
 * happens before the first byte reaches the client, which is what makes retrying safe.
 */
export async function sendUpstream(
  dependencies: ChatPipelineDependencies,
  request: FastifyRequest,
  provider: ProviderRuntime,
  operation: UpstreamOperation,
  body: string | Buffer,
  stream: boolean,
  signal: AbortSignal,
): Promise<UpstreamResponse> {
  return runWithFailover({
    pool: provider.pool,
    provider: provider.name,
    maxAttempts: provider.pool.size === 0 ? 1 : Math.min(dependencies.runtime().loaded.config.upstream.max_attempts, provider.pool.size),
    signal,
    attempt: async (credential) => {
      const target = provider.adapter.buildRequest({
        operation,
        credential,
        baseUrl: provider.baseUrl,
        stream,
        clientHeaders: request.headers,
      });
      const response = await dependencies.upstream.send({ provider: provider.name, url: target.url, headers: target.headers, body, signal });
      if (response.statusCode >= 400) {
        const bodyText = await readErrorBody(response.body);
        throw provider.adapter.mapError({ provider: provider.name, status: response.statusCode, headers: response.headers, bodyText });
      }
      return response;
    },
  });
}

/** Handles one chat request (OpenAI chat completion or Anthropic message), streamed or not. */
export async function runChat(dependencies: ChatPipelineDependencies, request: FastifyRequest, reply: FastifyReply, input: ChatInput): Promise<void> {
  const runtime = dependencies.runtime();
  const { provider, upstreamModel } = resolveProvider(runtime, input.model);
  request.routedProvider = provider.name;
  const bridge = bridgeFor(input.surface, provider.adapter.format);
  if (bridge === undefined) {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', {
      message: `The ${input.surface} surface cannot reach provider '${provider.name}' (${provider.adapter.format}) yet.`,
    });
  }
  const context: BridgeContext = {
    requestedModel: input.model,
    upstreamModel,
    created: Math.floor(dependencies.now() / 1000),
    requestId: request.id,
    clientBody: input.body,
  };
  const upstreamBody = bridge.upstreamBody(context, input.raw, { defaultMaxTokens: runtime.loaded.config.upstream.default_max_tokens });
  const controller = abortOnClientClose(reply);
  const response = await sendUpstream(dependencies, request, provider, 'chat', upstreamBody, input.stream, controller.signal);

  if (!input.stream) {
    const body = await readBody(response.body, maxUpstreamJsonBytes, provider.name);
    await reply.code(200).header('content-type', 'application/json').send(bridge.jsonResponse(body, context));
    return;
  }
  const transformer = bridge.streamTransformer(context);
  await reply
    .code(200)
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-accel-buffering', 'no') // reverse proxies must not buffer SSE
    .send(Readable.from(relayStream(request, response, transformer, input.surface, provider.name, controller.signal)));
}

/**
 * Relays the upstream stream to the client, one upstream piece at a time: the async iterator pulls
 * the next upstream piece only when the client side has drained, so a slow client slows the
 * upstream read (TCP backpressure) instead of growing a buffer in the gateway.
 *
 * After the first byte there is no failover: a mid-stream failure becomes one error event in the
 * client's own format, then the stream ends cleanly.
 */
async function* relayStream(
  request: FastifyRequest,
  response: UpstreamResponse,
  transformer: StreamTransformer,
  surface: Surface,
  providerName: string,
  signal: AbortSignal,
): AsyncGenerator<string | Buffer> {
  try {
    for await (const piece of response.body) {
      const output = transformer.push(piece as Buffer);
      if (output.length > 0) yield output;
    }
    const tail = transformer.flush();
    if (tail.length > 0) yield tail;
  } catch (error) {
    if (signal.aborted) return; // the client left; nobody to tell
    const failure = isGatewayError(error)
      ? error
      : new GatewayError('GW_UPSTREAM_STREAM_FAILED', { provider: providerName, message: `The stream from provider '${providerName}' failed part-way.`, cause: error });
    request.log.warn({ code: failure.code, provider: providerName, err_message: failure.message }, 'upstream stream failed');
    yield streamErrorEvent(surface, failure);
  } finally {
    if (!response.body.destroyed) response.body.destroy();
  }
}
