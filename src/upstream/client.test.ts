import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/gateway-error.js';
import { isAbortError, UpstreamAbort, UpstreamClient, type UpstreamBody } from './client.js';

/** A local upstream whose answer each test picks by path. */
let server: Server;
let baseUrl: string;
const routes: Record<string, (request: IncomingMessage, response: ServerResponse) => void> = {
  '/ok': (_request, response) => response.end('{"ok":true}'),
  '/chunked': (_request, response) => {
    response.write('{"part":');
    setTimeout(() => response.end('2}'), 5);
  },
  '/big': (_request, response) => response.end('x'.repeat(4096)),
  '/error': (_request, response) => {
    response.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
    response.end(`{"error":"${'e'.repeat(40 * 1024)}"}`);
  },
  '/sse': (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write('data: 1\n\n');
    setTimeout(() => {
      response.write('data: 2\n\n');
      response.end('data: [DONE]\n\n');
    }, 10);
  },
  '/flood': (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const piece = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = (): void => {
      while (sent < 8 * 1024 * 1024) {
        sent += piece.length;
        if (!response.write(piece)) return void response.once('drain', pump);
      }
      response.end();
    };
    pump();
  },
  '/silent': () => {
    // never answers; the test aborts
  },
  '/echo': (request, response) => {
    const pieces: Buffer[] = [];
    request.on('data', (piece: Buffer) => pieces.push(piece));
    request.on('end', () => response.end(JSON.stringify({ path: request.url, body: Buffer.concat(pieces).toString('utf8'), auth: request.headers.authorization })));
  },
};

beforeAll(async () => {
  server = createServer((request, response) => {
    const route = routes[(request.url ?? '').split('?')[0]!];
    if (route === undefined) response.writeHead(404).end();
    else route(request, response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const client = (): UpstreamClient => new UpstreamClient({ connectTimeoutMs: 2000, firstByteTimeoutMs: 2000, idleTimeoutMs: 2000, maxConnectionsPerOrigin: 4 });
const input = (path: string, signal: UpstreamAbort | AbortSignal = new UpstreamAbort()) => ({
  provider: 'stub',
  url: `${baseUrl}${path}`,
  headers: { authorization: 'Bearer test-upstream-key-0001', 'content-type': 'application/json' },
  body: '{"model":"m"}',
  signal,
});

describe('UpstreamClient.sendBuffered', () => {
  it('returns status and the whole body, also when it arrives in pieces', async () => {
    const upstream = client();
    const ok = await upstream.sendBuffered(input('/ok'), 1024);
    expect(ok.statusCode).toBe(200);
    expect(ok.body.toString()).toBe('{"ok":true}');
    const chunked = await upstream.sendBuffered(input('/chunked'), 1024);
    expect(chunked.body.toString()).toBe('{"part":2}');
    await upstream.close();
  });

  it('sends method, path with query, headers and body', async () => {
    const upstream = client();
    const answer = await upstream.sendBuffered(input('/echo?api-version=1'), 1024);
    expect(JSON.parse(answer.body.toString())).toEqual({ path: '/echo?api-version=1', body: '{"model":"m"}', auth: 'Bearer test-upstream-key-0001' });
    await upstream.close();
  });

  it('refuses a success body over the limit', async () => {
    const upstream = client();
    const failure = await upstream.sendBuffered(input('/big'), 1000).catch((error: unknown) => error);
    expect(isGatewayError(failure) && failure.code).toBe('GW_UPSTREAM_BAD_RESPONSE');
    await upstream.close();
  });

  it('returns an error status with parsed headers and the body cut at 16 KiB', async () => {
    const upstream = client();
    const answer = await upstream.sendBuffered(input('/error'), 1024 * 1024);
    expect(answer.statusCode).toBe(429);
    expect(answer.headers['retry-after']).toBe('7');
    expect(answer.body.length).toBe(16 * 1024);
    await upstream.close();
  });

  it('passes an abort through unmapped, with an UpstreamAbort or an AbortSignal', async () => {
    const upstream = client();
    const abort = new UpstreamAbort();
    const pending = upstream.sendBuffered(input('/silent', abort), 1024).catch((error: unknown) => error);
    setTimeout(() => abort.abort(), 20);
    expect(isAbortError(await pending)).toBe(true);
    const controller = new AbortController();
    const pendingSignal = upstream.sendBuffered(input('/silent', controller.signal), 1024).catch((error: unknown) => error);
    setTimeout(() => controller.abort(), 20);
    expect(isAbortError(await pendingSignal)).toBe(true);
    const already = new UpstreamAbort();
    already.abort();
    expect(isAbortError(await upstream.sendBuffered(input('/ok', already), 1024).catch((error: unknown) => error))).toBe(true);
    await upstream.close();
  });

  it('maps an unreachable upstream to a retryable GatewayError without the URL query', async () => {
    const upstream = client();
    const failure = await upstream
      .sendBuffered({ ...input('/ok'), url: 'http://127.0.0.1:1/v1/chat?key=test-upstream-key-0001' }, 1024)
      .catch((error: unknown) => error);
    expect(isGatewayError(failure) && failure.code).toBe('GW_UPSTREAM_UNREACHABLE');
    expect(isGatewayError(failure) && failure.retryable).toBe(true);
    expect(String((failure as Error).message)).not.toContain('test-upstream-key-0001');
    await upstream.close();
  });
});

/** Collects a streamed body through its sink. */
function collect(body: UpstreamBody): Promise<{ text: string; error?: Error }> {
  return new Promise((resolve) => {
    const pieces: Buffer[] = [];
    body.attach({
      onData: (piece) => pieces.push(piece),
      onEnd: () => resolve({ text: Buffer.concat(pieces).toString() }),
      onError: (error) => resolve({ text: Buffer.concat(pieces).toString(), error }),
    });
  });
}

describe('UpstreamClient.sendStreaming', () => {
  it('delivers every piece, also those that arrived before attach, then the end', async () => {
    const upstream = client();
    const response = await upstream.sendStreaming(input('/sse'));
    expect(response.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 30)); // everything arrives before attach
    expect(await collect(response.body)).toEqual({ text: 'data: 1\n\ndata: 2\n\ndata: [DONE]\n\n' });
    await upstream.close();
  });

  it('reads an error body as text, cut at the limit, with parsed headers', async () => {
    const upstream = client();
    const response = await upstream.sendStreaming(input('/error'));
    expect(response.statusCode).toBe(429);
    expect(response.headers['retry-after']).toBe('7');
    expect((await response.body.readText(1024)).length).toBe(1024);
    await upstream.close();
  });

  it('stops reading the upstream while paused, and finishes after resume', async () => {
    const upstream = client();
    const response = await upstream.sendStreaming(input('/flood'));
    let received = 0;
    const ended = new Promise<void>((resolve) => {
      response.body.attach({
        onData: (piece) => {
          received += piece.length;
          response.body.pause();
        },
        onEnd: resolve,
        onError: () => resolve(),
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const whilePaused = received;
    expect(whilePaused).toBeLessThan(8 * 1024 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toBe(whilePaused);
    const timer = setInterval(() => response.body.resume(), 1);
    await ended;
    clearInterval(timer);
    expect(received).toBe(8 * 1024 * 1024);
    await upstream.close();
  });

  it('reports an abort after the headers to the sink, unmapped', async () => {
    const upstream = client();
    const abort = new UpstreamAbort();
    const response = await upstream.sendStreaming(input('/flood', abort));
    const result = collect(response.body);
    abort.abort();
    const { error } = await result;
    expect(isAbortError(error)).toBe(true);
    await upstream.close();
  });

  it('rejects before the headers like sendBuffered: abort unmapped, unreachable mapped', async () => {
    const upstream = client();
    const abort = new UpstreamAbort();
    const pending = upstream.sendStreaming(input('/silent', abort)).catch((error: unknown) => error);
    setTimeout(() => abort.abort(), 20);
    expect(isAbortError(await pending)).toBe(true);
    const failure = await upstream.sendStreaming({ ...input('/ok'), url: 'http://127.0.0.1:1/v1/chat' }).catch((error: unknown) => error);
    expect(isGatewayError(failure) && failure.code).toBe('GW_UPSTREAM_UNREACHABLE');
    await upstream.close();
  });
});

describe('UpstreamAbort', () => {
  it('fires once, with an AbortError reason', () => {
    const abort = new UpstreamAbort();
    let fired = 0;
    abort.onAbort(() => (fired += 1));
    abort.abort();
    abort.abort();
    expect(fired).toBe(1);
    expect(abort.aborted).toBe(true);
    expect(isAbortError(abort.reason)).toBe(true);
  });

  it('does not call a removed listener, calls one added after the abort at once, and keeps the others', () => {
    const abort = new UpstreamAbort();
    const calls: string[] = [];
    const first = (): void => void calls.push('first');
    const second = (): void => void calls.push('second');
    abort.onAbort(first);
    abort.onAbort(second);
    abort.offAbort(first);
    abort.offAbort(() => undefined); // not registered: nothing changes
    abort.abort();
    expect(calls).toEqual(['second']);
    abort.onAbort(() => void calls.push('late'));
    expect(calls).toEqual(['second', 'late']);
  });
});
