import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { isAbortError } from '../upstream/client.js';
import { errorBody, errorShapeOf } from './error-shape.js';

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

export function sendGatewayError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  request.gatewayErrorCode = error.code;
  return reply
    .code(error.status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(errorBody(errorShapeOf(request.url, request.headers), error)));
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    if (isAbortError(error)) {
      // The client hung up and its upstream call was cancelled: nobody to answer, nothing broken.
      request.log.info('client closed the connection before the answer');
      if (!reply.raw.destroyed) reply.raw.destroy();
      return;
    }
    const gatewayError = toGatewayError(error);
    if (gatewayError.code === 'GW_INTERNAL') {
      // Unexpected: log the cause for the operator (the sink redacts), tell the client nothing more.
      request.log.error({ err: error }, 'unhandled error');
    }
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    return sendGatewayError(request, reply, gatewayError);
  });
  app.setNotFoundHandler((request, reply) => sendGatewayError(request, reply, new GatewayError('GW_NOT_FOUND')));
}
