import { Agent, errors as undiciErrors, util as undiciUtil, type Dispatcher } from 'undici';
import { GatewayError } from '../errors/gateway-error.js';
import { createGuardedLookup, egressRefusedCode, EgressRefusedError, type SocketLookup } from '../egress/egress-guard.js';
import { UpstreamBody } from './upstream-body.js';

export { UpstreamBody, type UpstreamBodySink } from './upstream-body.js';

/** Upstream timeouts, in milliseconds (config `upstream.*`). */
export interface UpstreamTimeouts {
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  /** Sockets per upstream origin; requests beyond it queue in the gateway. */
  maxConnectionsPerOrigin: number;
  /** The resolver under the egress guard; `dns.lookup` unless a test swaps it. */
  resolve?: SocketLookup;
}

export interface UpstreamSendInput {
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
  signal: AbortSignal | UpstreamAbort;
  /** The provider's `allow_private_network`: skip the egress guard (a local model server, a test stub). */
  allowPrivateNetwork?: boolean;
}

/**
 * Cancels one upstream call when its client goes away. Not an AbortController: on Node 20 adding
 * and removing a listener on an AbortSignal costs ~10 µs per request, and not an EventEmitter
 * either: its `once` wrapper and `off` search cost ~0.6 µs per call in the profile, for what is at
 * most one listener at a time (the attempt in flight; failover tries credentials one after
 * another). `reason` is an AbortError like an AbortSignal's, so `isAbortError` and every abort path
 * see the same error either way.
 */
export class UpstreamAbort {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] = [];

  /** `listener` runs once, at the abort (at once if the abort already happened). */
  onAbort(listener: () => void): void {
    if (this.aborted) listener();
    else this.#listeners.push(listener);
  }

  offAbort(listener: () => void): void {
    const at = this.#listeners.lastIndexOf(listener);
    if (at !== -1) this.#listeners.splice(at, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new DOMException('The operation was aborted.', 'AbortError');
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}

function addAbortListener(signal: AbortSignal | UpstreamAbort, listener: () => void): void {
  if (signal instanceof UpstreamAbort) signal.onAbort(listener);
  else signal.addEventListener('abort', listener, { once: true });
}

function removeAbortListener(signal: AbortSignal | UpstreamAbort, listener: () => void): void {
  if (signal instanceof UpstreamAbort) signal.offAbort(listener);
  else signal.removeEventListener('abort', listener);
}

/** Parsed upstream URLs kept at most (a handful per provider in practice); cleared whole when full. */
const maxCachedTargets = 1024;

/** A non-streamed upstream answer, read whole. */
export interface BufferedUpstreamResponse {
  statusCode: number;
  /** Parsed only for error statuses (the error mapping reads retry-after); empty for a success. */
  headers: Dispatcher.ResponseData['headers'];
  /** The body; for an error status at most `maxErrorBodyBytes`. */
  body: Buffer;
}

/** A streamed upstream answer: status, headers (parsed only for error statuses) and the unread body. */
export interface StreamingUpstreamResponse {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: UpstreamBody;
}

/** An upstream error body is read at most this far: enough for any real error, bounded against a hostile upstream. */
const maxErrorBodyBytes = 16 * 1024;

/**
 * One undici Agent for every upstream origin: it keeps a keep-alive pool per origin, so a
 * thousand requests to one provider reuse a handful of TLS connections.
 *
 * Timeouts: `connect` bounds the TCP/TLS handshake, `headersTimeout` the wait for the first
 * byte of the answer, `bodyTimeout` the silence between two body chunks (a stalled stream).
 */
export class UpstreamClient {
  /** Every connect resolves through the egress guard (egress/egress-guard.ts). */
  private readonly agent: Agent;
  /** For providers with `allow_private_network: true`; created at their first request. */
  private privateAgent: Agent | undefined;
  private readonly timeouts: UpstreamTimeouts;
  /** URL string → undici's origin and path: parsing a URL costs ~1 µs, and the same few repeat. */
  private readonly targets = new Map<string, { origin: string; path: string }>();

  constructor(timeouts: UpstreamTimeouts) {
    this.timeouts = timeouts;
    this.agent = this.createAgent(createGuardedLookup(timeouts.resolve));
  }

  /**
   * The guard sits in the socket's `lookup`, so it judges the addresses this connect will use
   * (no check-then-connect gap for DNS rebinding), once per new socket: pooled sockets pay nothing.
   */
  private createAgent(lookup: SocketLookup | undefined): Agent {
    return new Agent({
      connect: { timeout: this.timeouts.connectTimeoutMs, ...(lookup === undefined ? {} : { lookup }) },
      headersTimeout: this.timeouts.firstByteTimeoutMs,
      bodyTimeout: this.timeouts.idleTimeoutMs,
      keepAliveTimeout: 30_000, // 30 s; upstreams typically keep idle sockets 60 s or more
      keepAliveMaxTimeout: 600_000,
      connections: this.timeouts.maxConnectionsPerOrigin,
    });
  }

  private agentFor(input: UpstreamSendInput): Agent {
    if (input.allowPrivateNetwork !== true) return this.agent;
    this.privateAgent ??= this.createAgent(this.timeouts.resolve);
    return this.privateAgent;
  }

  /**
   * Sends one request and reads the whole answer, for non-streamed calls. Same contract as `send`
   * (transport failures are GatewayErrors, aborts pass through unmapped), plus: a success body over
   * `limitBytes` is GW_UPSTREAM_BAD_RESPONSE, and an error body is cut at 16 KiB.
   *
   * Why not `send` + `readBody`: undici's `request()` wraps every answer in a Readable stream, an
   * AsyncResource and a promise, and the abort signal in a listener; a raw dispatch handler that
   * collects the pieces costs a fraction of that on the path every non-streamed request takes.
   */
  sendBuffered(input: UpstreamSendInput, limitBytes: number): Promise<BufferedUpstreamResponse> {
    return new Promise<BufferedUpstreamResponse>((resolve, reject) => {
      const { origin, path } = this.target(input.url);
      const { signal, provider } = input;
      let statusCode = 0;
      let headers: Dispatcher.ResponseData['headers'] = {};
      let limit = limitBytes;
      const pieces: Buffer[] = [];
      let total = 0;
      let settled = false;
      let abortUpstream: ((error?: Error) => void) | undefined;
      const onAbort = (): void => abortUpstream?.(signal.reason as Error);
      const settle = (error: unknown, response?: BufferedUpstreamResponse): void => {
        if (settled) return;
        settled = true;
        removeAbortListener(signal, onAbort);
        if (response !== undefined) resolve(response);
        else reject(error instanceof Error ? error : new Error(String(error)));
      };
      const handler: Dispatcher.DispatchHandler = {
        onConnect(abort) {
          abortUpstream = abort;
          if (signal.aborted) abort(signal.reason as Error);
        },
        onHeaders(status, rawHeaders) {
          if (status < 200) return true; // 1xx: informational, the answer follows
          statusCode = status;
          if (status >= 400) {
            headers = undiciUtil.parseHeaders(rawHeaders);
            limit = maxErrorBodyBytes;
          }
          return true;
        },
        onData(chunk) {
          if (settled) return true;
          if (total + chunk.length > limit) {
            if (statusCode >= 400) {
              // Enough of an error body to map it; the rest is dropped with the connection.
              pieces.push(chunk.subarray(0, limit - total));
              settle(undefined, { statusCode, headers, body: Buffer.concat(pieces) });
            } else {
              settle(
                new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { provider, message: `Provider '${provider}' sent a response larger than ${limit} bytes.` }),
              );
            }
            abortUpstream?.(new undiciErrors.RequestAbortedError());
            return false;
          }
          pieces.push(chunk);
          total += chunk.length;
          return true;
        },
        onComplete() {
          settle(undefined, { statusCode, headers, body: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, total) });
        },
        onError(error) {
          // The client went away: not the credential's fault, so no cooldown and no failover.
          settle(signal.aborted || isAbortError(error) ? error : transportError(error, provider));
        },
      };
      if (signal.aborted) {
        settle(signal.reason);
        return;
      }
      addAbortListener(signal, onAbort);
      try {
        this.agentFor(input).dispatch({ origin, path, method: 'POST', headers: input.headers, body: input.body }, handler);
      } catch (error) {
        settle(transportError(error, provider));
      }
    });
  }

  /**
   * Sends one request whose answer is streamed. Same contract as `send`; the body comes as an
   * UpstreamBody (callbacks, backpressure, destroy) instead of a Readable. Failures after the
   * headers reach the body's sink: aborts as they are, anything else through `transportError`.
   */
  sendStreaming(input: UpstreamSendInput): Promise<StreamingUpstreamResponse> {
    return new Promise<StreamingUpstreamResponse>((resolve, reject) => {
      const { origin, path } = this.target(input.url);
      const { signal, provider } = input;
      let body: UpstreamBody | undefined;
      let done = false;
      let abortUpstream: ((error?: Error) => void) | undefined;
      const onAbort = (): void => abortUpstream?.(signal.reason as Error);
      const close = (): void => {
        if (done) return;
        done = true;
        removeAbortListener(signal, onAbort);
      };
      const handler: Dispatcher.DispatchHandler = {
        onConnect(abort) {
          abortUpstream = abort;
          if (signal.aborted) abort(signal.reason as Error);
        },
        onHeaders(status, rawHeaders, resume) {
          if (status < 200) return true; // 1xx: informational, the answer follows
          const headers = status >= 400 ? (undiciUtil.parseHeaders(rawHeaders) as Dispatcher.ResponseData['headers']) : {};
          body = new UpstreamBody(resume, (error) => abortUpstream?.(error));
          resolve({ statusCode: status, headers, body });
          return true;
        },
        onData(chunk) {
          return body === undefined ? true : body.push(chunk);
        },
        onComplete() {
          close();
          body?.end();
        },
        onError(error) {
          close();
          const mapped = signal.aborted || isAbortError(error) ? error : transportError(error, provider);
          if (body === undefined) reject(mapped);
          else body.fail(mapped);
        },
      };
      if (signal.aborted) {
        done = true;
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        return;
      }
      addAbortListener(signal, onAbort);
      try {
        this.agentFor(input).dispatch({ origin, path, method: 'POST', headers: input.headers, body: input.body }, handler);
      } catch (error) {
        close();
        reject(transportError(error, provider));
      }
    });
  }

  /** The same split `undici.request(url)` makes, done once per distinct URL. */
  private target(url: string): { origin: string; path: string } {
    let target = this.targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError('upstream URL must be http: or https:');
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (this.targets.size >= maxCachedTargets) this.targets.clear();
      this.targets.set(url, target);
    }
    return target;
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.privateAgent?.close()]);
  }
}

/**
 * True for the errors undici raises when our AbortController fired (client disconnect). They must
 * pass through unmapped: a credential must never cool down because a client hung up.
 */
export function isAbortError(error: unknown): boolean {
  if (error instanceof undiciErrors.RequestAbortedError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'AbortError';
}

/**
 * Maps an undici/socket failure to the catalog: 504 for timeouts, 502 for everything else.
 *
 * `retryable` says whether failover may resend to another credential. A failure to connect (refused,
 * DNS, connect timeout, reset) is retryable: nothing reached the upstream, or what did cannot have
 * been processed. A first-byte or idle timeout is not: the request was sent, the upstream may be
 * working on it (and billing it), and its slowness says nothing about the credential.
 * `upstream.failover_on_first_byte_timeout` opts back in (chat-pipeline, with `isFirstByteTimeout`).
 */
export function transportError(error: unknown, provider: string): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof EgressRefusedError || (error as { code?: unknown }).code === egressRefusedCode) {
    // Not retryable: every credential of the provider goes to the same host. The address stays in
    // the log (the cause), not in the client's message.
    return new GatewayError('GW_EGRESS_REFUSED', { provider, retryable: false, message: `Provider '${provider}' resolves to a non-public address; the egress guard refused it.`, cause: error });
  }
  if (error instanceof undiciErrors.ConnectTimeoutError) {
    return new GatewayError('GW_UPSTREAM_TIMEOUT', { provider, retryable: true, message: `Provider '${provider}' could not be reached in time.`, cause: error });
  }
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
    return new GatewayError('GW_UPSTREAM_TIMEOUT', {
      provider,
      retryable: false,
      message: `Provider '${provider}' did not answer in time.`,
      cause: error,
    });
  }
  const code = (error as { code?: unknown }).code;
  const reason = typeof code === 'string' ? ` (${code})` : '';
  return new GatewayError('GW_UPSTREAM_UNREACHABLE', {
    provider,
    retryable: true,
    message: `Provider '${provider}' could not be reached${reason}.`,
    cause: error,
  });
}

/** True for the timeout of a request that was sent but got no response headers in time. */
export function isFirstByteTimeout(error: unknown): error is GatewayError {
  return error instanceof GatewayError && error.cause instanceof undiciErrors.HeadersTimeoutError;
}
