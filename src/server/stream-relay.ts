import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import type { WireFormat } from '../formats/wire-format.js';
import { createSecretStreamRedactor } from '../security/secret-stream-redactor.js';
import type { StreamingUpstreamResponse, UpstreamAbort } from '../upstream/client.js';
import { outputBeforeFailure } from './bridges/sse-transformer.js';
import type { StreamTransformer } from './bridges/types.js';
import { StreamUsageSniffer } from './bridges/usage.js';
import { errorBody, streamErrorEvent, type ErrorShape } from './error-shape.js';
import { elapsedMs, type ExchangeObservers } from './exchange.js';

export interface StreamRelayOptions {
  transformer: StreamTransformer;
  errorShape: ErrorShape;
  providerName: string;
  /** The upstream's format: which final events carry its token usage. */
  upstreamFormat: WireFormat;
  /**
   * The transformer translates: it reads every upstream event and fails the stream on the
   * upstream's error event, so the relay need not look for one in the bytes (a same-format stream
   * is relayed as bytes, and only the usage sniffer sees how it ended).
   */
  translated: boolean;
  signal: UpstreamAbort;
  /** Absent (or no record on the request): no first-byte time, no usage sniffing. */
  observers: ExchangeObservers | undefined;
}

/** Headers of an SSE answer, on top of those the hooks set (x-request-id, security headers). */
const streamHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store', // as the security headers say; an SSE answer is never to be cached
  'x-accel-buffering': 'no', // reverse proxies must not buffer SSE
} as const;

/**
 * Relays the upstream stream to the client, one upstream piece at a time, written straight to the
 * socket's response (Fastify's stream piping costs a Readable, an async generator and a pipe per
 * stream, and several promise hops per chunk). Each piece is written as it arrives, so the first
 * byte leaves when it arrives (no buffering). Backpressure is explicit: when the client's socket
 * buffer is full (`write` returns false) the upstream body is paused until `drain`, so a slow
 * client slows the upstream read (TCP backpressure) instead of growing a buffer in the gateway.
 *
 * Observer points: the first write is the exchange's first byte; at the end the usage sniffer
 * (references to the stream's first and last pieces, parsed once) fills the record's usage.
 *
 * Every upstream piece first passes the secret stream redactor (registered upstream keys and tokens
 * masked, on every bridge; it holds back only a tail that could start a secret, which an SSE piece
 * ending in '\n' never has), then the bridge's transformer.
 *
 * After the first byte there is no failover: a mid-stream failure becomes one error event in the
 * client's own format, then the stream ends cleanly. A client that hangs up aborts the upstream
 * call (abortOnClientClose) and the relay stops without writing. Resolves when the relay is over;
 * never rejects.
 */
export function relayStream(
  request: FastifyRequest,
  reply: FastifyReply,
  response: StreamingUpstreamResponse,
  relay: StreamRelayOptions,
): Promise<void> {
  const { transformer, errorShape, providerName, signal, observers } = relay;
  const exchange = observers === undefined ? undefined : request.exchange;
  const usageSniffer = exchange === undefined ? undefined : new StreamUsageSniffer(relay.upstreamFormat, !relay.translated);
  let firstByteSeen = false;
  const client = reply.raw;
  const upstream = response.body;
  reply.hijack();
  // getHeaders builds a new object each call: the stream's headers are set on it, not spread into another.
  const headers = reply.getHeaders() as OutgoingHttpHeaders;
  headers['content-type'] = transformer.contentType ?? streamHeaders['content-type'];
  headers['cache-control'] = streamHeaders['cache-control'];
  headers['x-accel-buffering'] = streamHeaders['x-accel-buffering'];
  client.writeHead(200, headers);
  return new Promise<void>((resolve) => {
    let finished = false;
    const finish = (tail: string | Buffer | undefined): void => {
      if (finished) return;
      finished = true;
      writePending();
      client.off('drain', onDrain);
      upstream.destroy();
      if (exchange !== undefined && usageSniffer !== undefined) {
        const { usage, upstreamError } = usageSniffer.finish();
        exchange.usage = usage;
        if (usage !== undefined) observers?.notify('usage', exchange);
        if (upstreamError) request.gatewayErrorCode ??= 'GW_UPSTREAM_STREAM_FAILED';
      }
      if (!client.destroyed) {
        if (tail !== undefined && tail.length > 0) client.end(tail);
        else client.end();
      }
      resolve();
    };
    const fail = (error: unknown): void => {
      if (finished) return;
      if (signal.aborted || client.destroyed) return finish(undefined); // the client left; nobody to tell
      // Everything the upstream sent before the failure reaches the client first, then the error.
      const { output, cause } = outputBeforeFailure(transformer, error);
      if (output.length > 0) write(output);
      const failure = isGatewayError(cause)
        ? cause
        : new GatewayError('GW_UPSTREAM_STREAM_FAILED', { provider: providerName, message: `The stream from provider '${providerName}' failed part-way.`, cause });
      request.log.warn({ code: failure.code, provider: providerName, err_message: failure.message }, 'upstream stream failed');
      request.gatewayErrorCode = failure.code; // the answer is a 200 that ended in this error
      finish(transformer.errorEvent === undefined ? streamErrorEvent(errorShape, failure) : transformer.errorEvent(errorBody(errorShape, failure)));
    };
    // Coalescing without delay: the upstream body arrives as one piece per upstream HTTP chunk,
    // often twenty from one socket read. The pieces relayed while one read is handled are kept and
    // written as one HTTP chunk in a microtask, which runs once that read is fully handled (its
    // last piece and the end of the answer included): one `write` and one writev instead of a
    // `write` per piece (each costs Node a chunk header, three socket writes and their buffering,
    // ~1 µs apiece in the profile). Nothing waits for more I/O, so the first byte leaves as soon.
    // SSE events do not depend on where HTTP chunks end.
    let pending: (string | Buffer)[] = [];
    let pendingScheduled = false;
    const writePending = (): void => {
      pendingScheduled = false;
      if (pending.length === 0) return;
      const output = pending.length === 1 ? pending[0]! : joinPieces(pending);
      pending = [];
      if (client.destroyed) return;
      if (!client.write(output)) upstream.pause();
    };
    const write = (output: string | Buffer): void => {
      if (!firstByteSeen) {
        firstByteSeen = true;
        if (exchange !== undefined) {
          exchange.firstByteMs = elapsedMs(exchange);
          observers?.notify('firstByte', exchange);
        }
      }
      pending.push(output);
      if (!pendingScheduled) {
        pendingScheduled = true;
        queueMicrotask(writePending);
      }
    };
    const secretRedactor = createSecretStreamRedactor();
    const onDrain = (): void => upstream.resume();
    client.on('drain', onDrain);
    client.once('close', () => finish(undefined));
    upstream.attach({
      onData: (piece) => {
        if (finished) return;
        usageSniffer?.observe(piece);
        let output: string | Buffer;
        try {
          output = transformer.push(secretRedactor === undefined ? piece : secretRedactor.push(piece));
        } catch (error) {
          fail(error);
          return;
        }
        if (output.length > 0) write(output);
      },
      onEnd: () => {
        if (finished) return;
        let tail: string | Buffer;
        try {
          const held = secretRedactor?.flush();
          if (held !== undefined && held.length > 0) {
            const output = transformer.push(held);
            if (output.length > 0) write(output);
          }
          tail = transformer.flush();
        } catch (error) {
          fail(error);
          return;
        }
        finish(tail);
      },
      onError: fail,
    });
  });
}

/** The pieces of one read as one output: a string when all are strings (translated events), else bytes. */
function joinPieces(pieces: readonly (string | Buffer)[]): string | Buffer {
  if (pieces.every((piece) => typeof piece === 'string')) return pieces.join('');
  return Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
}
