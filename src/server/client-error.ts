import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { GatewayError } from '../errors/gateway-error.js';
import type { ErrorCode } from '../errors/codes.js';
import { errorBody, errorShapeOf } from './error-shape.js';
import type { SecurityHeaderBlock } from './hooks/security-headers.js';

/**
 * Answers what Node's HTTP parser refuses before a request exists (Fastify's `clientErrorHandler`):
 * a head over `server.max_header_bytes` (431), a head or body not received within
 * `server.timeouts.headers_ms` / `request_ms` (408: the slowloris cut), or bytes that are not HTTP
 * (400). The answer is JSON in the surface's error shape with a catalog code, like every other
 * refusal, instead of Node's empty body or Fastify's own shape; then the socket is closed. No
 * hook runs here, so the answer carries the security-headers hook's block itself (the same one).
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
 * The request's path, so an Anthropic or Gemini client gets its own error shape. A parser error
 * (431, 400) carries the refused bytes (`rawPacket`): their request line (`POST /v1/messages
 * HTTP/1.1`) is read back. A timeout carries none: when the head was complete (body timeout) the
 * request exists, on the response Node attached to the socket (`_httpMessage`), and its URL is used. A timeout
 * while the head is still arriving gets the default (OpenAI) shape: Node's parser does not expose
 * the request line it already read, and keeping a copy would mean a listener on every socket's data.
 */
function pathOf(rawPacket: unknown, socket: Socket): string {
  if (Buffer.isBuffer(rawPacket)) {
    const line = rawPacket.toString('latin1', 0, Math.min(rawPacket.length, maxRequestLineBytes));
    const match = /^[A-Z]{3,8} (\/\S*) /.exec(line);
    return match?.[1] ?? '/';
  }
  const response = (socket as Socket & { _httpMessage?: { req?: IncomingMessage } })._httpMessage;
  return response?.req?.url ?? '/';
}

/** The handler, for Fastify's `clientErrorHandler` option. */
export function createClientErrorHandler(logger: FastifyBaseLogger, securityHeaders: SecurityHeaderBlock): (error: Error, socket: Socket) => void {
  // Rendered once: the lines are fixed for the process's life, like the block.
  const securityLines = securityHeaders.map(([name, value]) => `${name}: ${value}`);
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
    const body = JSON.stringify(errorBody(errorShapeOf(pathOf(failure.rawPacket, socket), {}), gatewayError));
    const head = [
      `HTTP/1.1 ${gatewayError.status} ${STATUS_CODES[gatewayError.status] ?? 'Error'}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      ...securityLines,
    ];
    const grace = setTimeout(() => socket.destroy(), flushGraceMs);
    grace.unref();
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => {
      clearTimeout(grace);
      socket.destroy();
    });
  };
}
