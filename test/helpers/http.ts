import { connect, type Socket } from 'node:net';
import { createSseParser, type SseEvent } from '../../src/formats/sse.js';

/**
 * Small HTTP helpers for what the SDKs hide: exact status codes, raw bodies, SSE frames as sent,
 * and a raw socket for the oversized-body test.
 */

export interface JsonResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** POSTs `body` (an object is JSON-encoded, a string is sent as is) and reads the whole answer. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<JsonResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: signal ?? AbortSignal.timeout(15_000),
  });
  return readJsonResponse(response);
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
  return readJsonResponse(response);
}

export async function readJsonResponse(response: Response): Promise<JsonResponse> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Parses a complete SSE body into events (after the stream closed). */
export function parseSseText(text: string): SseEvent[] {
  const parser = createSseParser();
  return [...parser.push(text), ...parser.flush()];
}

export interface RawExchange {
  /** The response head and whatever body arrived, as text. */
  responseText: string;
  /** Request body bytes written before the server answered or closed. */
  bodyBytesSent: number;
  elapsedMs: number;
}

/**
 * Sends a request head announcing `contentLength` bytes over a raw socket, then streams filler
 * body bytes until the server answers or closes, or everything was sent. Shows whether the
 * server answers an oversized body early instead of reading it all.
 */
export function sendLargeBody(port: number, path: string, headers: Record<string, string>, contentLength: number, timeoutMs = 10_000): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let responseText = '';
    let bodyBytesSent = 0;
    let finished = false;
    const piece = Buffer.alloc(64 * 1024, 0x61);
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responseText, bodyBytesSent, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => {
      finished = true;
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms after ${bodyBytesSent} body bytes`));
    }, timeoutMs);
    const pump = (): void => {
      while (!finished && responseText === '' && bodyBytesSent < contentLength) {
        const size = Math.min(piece.length, contentLength - bodyBytesSent);
        bodyBytesSent += size;
        if (!socket.write(size === piece.length ? piece : piece.subarray(0, size))) return;
      }
    };
    socket.on('connect', () => {
      const head = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Content-Length: ${contentLength}`, 'Content-Type: application/json'];
      for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      pump();
    });
    socket.on('drain', pump);
    socket.on('data', (data: Buffer) => {
      responseText += data.toString('latin1');
      // Give the rest of a small error body a moment to arrive, then stop.
      setTimeout(finish, 50);
    });
    socket.on('error', () => finish());
    socket.on('close', () => finish());
  });
}

/**
 * A POST of a JSON body to the gateway over a raw socket, with its client key and `connection:
 * close`: for tests that read the answer's bytes as they arrive (backpressure, chunking) instead
 * of through an HTTP client.
 */
export function rawPost(gateway: { port: number; clientKey: string }, path: string, body: string): Socket {
  const socket = connect(gateway.port, '127.0.0.1');
  socket.write(
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${gateway.clientKey}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  return socket;
}
