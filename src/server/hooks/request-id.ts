import type { onRequestHookHandler } from 'fastify';

/**
 * Sends the request id (`genReqId` in create-app.ts: a sane client-sent `X-Request-Id`, else a
 * UUID) back on every answer, refusals included, so a client can quote it in a report. First in
 * every scope after the record starts: no later hook can answer without it.
 */
export const requestIdHook: onRequestHookHandler = (request, reply, done) => {
  void reply.header('x-request-id', request.id);
  done();
};
