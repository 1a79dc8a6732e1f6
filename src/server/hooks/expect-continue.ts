import type { Server } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { preParsingHookHandler } from 'fastify';

/** Requests that sent `Expect: 100-continue` and have not been told to continue yet. */
const waitingForContinue = new WeakSet<IncomingMessage>();

/**
 * Node answers `Expect: 100-continue` with `100 Continue` at once unless the server handles
 * 'checkContinue': the client would then send its body before its key was checked. Here the
 * request goes through the ordinary path instead, remembered as waiting; `createContinueHook`
 * sends the `100 Continue` once the hooks before it (shutdown gate, client key) let it through.
 */
export function deferContinue(server: Server): void {
  server.on('checkContinue', (request: IncomingMessage, response) => {
    waitingForContinue.add(request);
    server.emit('request', request, response);
  });
}

export interface ContinueHookOptions {
  /** A body announced larger than this is refused (413) without inviting it. */
  bodyLimitBytes: number;
}

/**
 * preParsing, so after every onRequest check and right before the body is read: tells a waiting
 * client to send its body, unless its `Content-Length` is already over the limit (the parser
 * answers 413 next, and the body is never invited).
 */
export function createContinueHook(options: ContinueHookOptions): preParsingHookHandler {
  const { bodyLimitBytes } = options;
  return (request, reply, payload, done) => {
    if (waitingForContinue.delete(request.raw)) {
      const announced = Number(request.headers['content-length'] ?? 0);
      if (!(announced > bodyLimitBytes) && !reply.raw.headersSent) reply.raw.writeContinue();
    }
    done(null, payload);
  };
}
