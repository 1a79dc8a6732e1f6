import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface DeferContinueOptions {
  /** A body announced larger than this is refused (413) without inviting it. */
  bodyLimitBytes: number;
}

/**
 * `Expect: 100-continue`, answered only when the body is about to be read. Node answers it with
 * `100 Continue` at once unless the server handles 'checkContinue': the client would then send its
 * body before its key was checked. Here such a request goes through the ordinary path, and the
 * `100 Continue` is written when its body is first read: Fastify's body parser starts reading
 * (`resume()`, which emits 'resume') only after every onRequest hook let the request through
 * (IP checks, shutdown gate, client key; hooks/hook-order.ts), and never for a request refused
 * before it. A 413 for an announced `Content-Length` over the limit is answered without reading,
 * so that body is never invited either (checked here as well, should anything else read it).
 *
 * Not a request hook on purpose: a hook runs for every request, and almost none sends `Expect`
 * (curl does only above 1 MiB). This costs nothing per request without the header: it measured
 * ~1.5–2 µs per request as a preParsing hook (Fastify's preParsing runner and a WeakSet lookup).
 */
export function deferContinue(server: Server, options: DeferContinueOptions): void {
  const { bodyLimitBytes } = options;
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    request.once('resume', () => {
      const announced = Number(request.headers['content-length'] ?? 0);
      // After an answer (a refusal, then Node discarding the unread body) there is nothing to invite.
      if (!(announced > bodyLimitBytes) && !response.headersSent && !response.writableEnded) response.writeContinue();
    });
    server.emit('request', request, response);
  });
}
