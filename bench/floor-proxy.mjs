#!/usr/bin/env node
/**
 * The "Node floor": the least a Node pass-through proxy can do per request. node:http in, one
 * keep-alive undici Pool out, method/path/headers/body bytes forwarded as they are (the body is
 * collected first, as a proxy that checks it must), the response (JSON or SSE) streamed straight
 * back. No auth, no parsing, no logging. Whatever our proxy costs above this is the price of its
 * features, which is what the benchmark reports as a ratio.
 *
 * `--rewrite-json` makes it the floor of a proxy that rewrites the body (target `floor-rewrite`, for
 * the translated ~100 KB body): the body is parsed with JSON.parse and written again with
 * JSON.stringify before it is forwarded, the least any translation in Node does to a body.
 *
 *   node bench/floor-proxy.mjs --upstream http://127.0.0.1:PORT [--port N] [--rewrite-json]
 * On listening it prints one JSON line to stdout: {"listening":PORT}.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' }, 'rewrite-json': { type: 'boolean', default: false } } });
if (!values.upstream) {
  process.stderr.write('usage: floor-proxy.mjs --upstream http://127.0.0.1:PORT [--port N]\n');
  process.exit(2);
}

const pool = new Pool(values.upstream, { connections: 1024, keepAliveTimeout: 60_000, pipelining: 1 });

/** Hop-by-hop headers (RFC 9110 §7.6.1) are per connection and must not be forwarded. */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

/** @param {Record<string, string | string[] | undefined>} headers */
function forwardable(headers) {
  /** @type {Record<string, string | string[]>} */
  const out = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !hopByHop.has(name)) out[name] = value;
  }
  return out;
}

/** @param {http.ServerResponse} response @param {Error | null} error */
function finish(response, error) {
  if (!error) return;
  if (response.headersSent) response.destroy(error);
  else {
    response.writeHead(502, { 'content-type': 'application/json' });
    response.end('{"error":{"message":"upstream failed","type":"bench_floor"}}');
  }
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
  /** @type {Buffer[]} */
  const pieces = [];
  request.on('data', (piece) => pieces.push(piece));
  request.on('end', () => {
    let body = pieces.length === 0 ? null : pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
    const headers = forwardable(request.headers);
    if (values['rewrite-json'] && body !== null) {
      try {
        body = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))));
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end('{"error":{"message":"body is not JSON","type":"bench_floor"}}');
        return;
      }
      headers['content-length'] = String(body.length);
    }
    // pool.stream writes the upstream body straight into `response` (the writable the factory
    // returns): measured ~30-40% less CPU per request than pool.request + stream.pipeline here.
    pool.stream(
      { method: request.method ?? 'GET', path: request.url ?? '/', headers, body },
      ({ statusCode, headers }) => {
        response.writeHead(statusCode, forwardable(headers));
        return response;
      },
      (error) => finish(response, error),
    );
  });
});
server.maxRequestsPerSocket = 0;
server.requestTimeout = 0;

server.listen(Number(values.port ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ listening: typeof address === 'object' && address ? address.port : 0 })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
