import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { isAbortError } from '../upstream/client.js';
import { errorBody, errorShapeOf } from './error-shape.js';
import { releaseUnsentRequest } from './request-limits.js';

/**
 * Fastify's own failures (body too large, bad content type, broken JSON) mapped to the catalog,
 * so a client sees our stable codes in its path's error shape and never Fastify's internals.
 */
const fastifyCodeMap: Record<string, GatewayError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'GW_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'GW_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'GW_INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'GW_INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_TYPE: 'GW_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'GW_UNSUPPORTED_MEDIA_TYPE',
};

export function toGatewayError(error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  const mapped = typeof fastifyError.code === 'string' ? fastifyCodeMap[fastifyError.code] : undefined;
  if (mapped !== undefined) return new GatewayError(mapped);
  if (error instanceof SyntaxError) return new GatewayError('GW_INVALID_JSON');
  return new GatewayError('GW_INTERNAL', { cause: error });
}

/**
 * True when the request announced a body that has not been read to its end. An answer sent now
 * (401 before the body, 413, 404 for an unknown path) closes the connection: keeping it alive
 * would make Node read and discard the rest of the body to find the next request, so a client
 * without a key could push gigabytes through the parser. With `Connection: close`, Node ends the
 * socket as soon as the answer is flushed and reads no further.
 */
function bodyLeftUnread(request: FastifyRequest): boolean {
  const raw = request.raw;
  if (raw.complete) return false;
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * True when the client is gone: its socket closed while the request was still being read or
 * answered (a hang-up mid-upload surfaces as an 'aborted' ECONNRESET from the body reader).
 */
function clientWentAway(request: FastifyRequest, error: unknown): boolean {
  if (isAbortError(error)) return true;
  return request.raw.socket?.destroyed === true && (error as { code?: unknown } | null)?.code === 'ECONNRESET';
}

export function sendGatewayError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply {
  if (bodyLeftUnread(request)) reply.header('connection', 'close');
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  if (error.rateLimit !== undefined) {
    // The widely deployed trio (GitHub, Okta, …) rather than the IETF draft's structured `RateLimit`
    // field, whose syntax changed between drafts; docs/security/network.md says so.
    reply.header('ratelimit-limit', String(error.rateLimit.limit));
    reply.header('ratelimit-remaining', String(error.rateLimit.remaining));
    reply.header('ratelimit-reset', String(error.rateLimit.resetSeconds));
  }
  request.gatewayErrorCode = error.code;
  return reply
    .code(error.status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(errorBody(errorShapeOf(request.url, request.headers), error)));
}

/** The app's one error handler, set on the root so every scope inherits it. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    if (clientWentAway(request, error)) {
      // The client hung up (mid-upload, or while its upstream call ran and was cancelled): a normal
      // event with nobody to answer and nothing broken.
      request.log.info('client closed the connection before the answer');
      if (!reply.raw.destroyed) reply.raw.destroy();
      return;
    }
    const gatewayError = toGatewayError(error);
    if (gatewayError.code === 'GW_NO_CREDENTIAL_AVAILABLE') {
      // Nothing reached an upstream (failover found no credential to try): the request gives back
      // what it took of its key's and its provider's limits, like a refused one, and is answered
      // once that reached the state backend (Redis), so a client retrying at once finds it back.
      // The give-back never rejects and the state guard bounds its wait.
      const releasing = releaseUnsentRequest(reply);
      if (releasing !== undefined) {
        return releasing.then(() => {
          answerError(request, reply, gatewayError);
        });
      }
    }
    if (gatewayError.code === 'GW_INTERNAL') {
      // Unexpected: log the cause for the operator (the sink redacts), tell the client nothing more.
      request.log.error({ err: error }, 'unhandled error');
    }
    return answerError(request, reply, gatewayError);
  });
}

/** The error's answer, or the connection cut when part of an answer already left. */
function answerError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply | undefined {
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return undefined;
  }
  return sendGatewayError(request, reply, error);
}

/**
 * 404 `GW_NOT_FOUND` for a path no route matches. Set inside a scope without a prefix, it serves
 * every unknown path with that scope's hooks (create-app.ts puts it in the client API scope).
 */
export function installNotFoundHandler(scope: FastifyInstance): void {
  scope.setNotFoundHandler((request, reply) => sendGatewayError(request, reply, new GatewayError('GW_NOT_FOUND')));
}
