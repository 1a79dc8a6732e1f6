import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { GatewayError } from '../errors/gateway-error.js';
import type { ErrorCode } from '../errors/codes.js';
import { errorBody, errorShapeOf } from './error-shape.js';

/**
 * Answers what Node's HTTP parser refuses before a request exists (Fastify's `clientErrorHandler`):
 * a head over `server.max_header_bytes` (431), a head or body not received within
 * `server.timeouts.headers_ms` / `request_ms` (408: the slowloris cut), or bytes that are not HTTP
 * (400). The answer is JSON in the surface's error shape with a catalog code, like every other
 * refusal, instead of Node's empty body or Fastify's own shape; then the socket is closed.
 */

/** Longest request line read back from the refused bytes to pick the error shape. */
const maxRequestLineBytes = 2048;

/** Bytes that must reach the client before the socket is destroyed anyway (a client that never reads). */
const flushGraceMs = 1_000;

function codeFor(error: NodeJS.ErrnoException): { code: ErrorCode; message?: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'GW_HEADERS_TOO_LARGE' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'GW_REQUEST_TIMEOUT' };
    default:
      return { code: 'GW_INVALID_REQUEST', message: 'The request is not valid HTTP/1.1.' };
  }
}

/**
 * The path of the request line in the refused bytes, when they start with one (`POST /v1/messages
 * HTTP/1.1`), so an Anthropic client gets the Anthropic shape. `rawPacket` is what the parser held;
 * a timeout has none, and gets the default (OpenAI) shape.
 */
function pathOf(rawPacket: unknown): string {
  if (!Buffer.isBuffer(rawPacket)) return '/';
  const line = rawPacket.toString('latin1', 0, Math.min(rawPacket.length, maxRequestLineBytes));
  const match = /^[A-Z]{3,8} (\/\S*) /.exec(line);
  return match?.[1] ?? '/';
}

/** The handler, for Fastify's `clientErrorHandler` option. */
export function createClientErrorHandler(logger: FastifyBaseLogger): (error: Error, socket: Socket) => void {
  return (error, socket) => {
    const failure = error as NodeJS.ErrnoException & { rawPacket?: unknown };
    // A reset or a socket already gone: nobody to answer.
    if (failure.code === 'ECONNRESET' || socket.destroyed) return;
    const { code, message } = codeFor(failure);
    const gatewayError = new GatewayError(code, message === undefined ? {} : { message });
    logger.debug({ code, parser_code: failure.code }, 'client error before a request');
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify(errorBody(errorShapeOf(pathOf(failure.rawPacket), {}), gatewayError));
    const head = [
      `HTTP/1.1 ${gatewayError.status} ${STATUS_CODES[gatewayError.status] ?? 'Error'}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ];
    const grace = setTimeout(() => socket.destroy(), flushGraceMs);
    grace.unref();
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => {
      clearTimeout(grace);
      socket.destroy();
    });
  };
}
