import { Agent, errors as undiciErrors, request as undiciRequest, type Dispatcher } from 'undici';
import { GatewayError } from '../errors/gateway-error.js';

/** Upstream timeouts, in milliseconds (config `upstream.*`). */
export interface UpstreamTimeouts {
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  /** Sockets per upstream origin; requests beyond it queue in the gateway. */
  maxConnectionsPerOrigin: number;
}

export interface UpstreamSendInput {
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
  signal: AbortSignal;
}

export interface UpstreamResponse {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
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
  private readonly agent: Agent;

  constructor(timeouts: UpstreamTimeouts) {
    this.agent = new Agent({
      connect: { timeout: timeouts.connectTimeoutMs },
      headersTimeout: timeouts.firstByteTimeoutMs,
      bodyTimeout: timeouts.idleTimeoutMs,
      keepAliveTimeout: 30_000, // 30 s; upstreams typically keep idle sockets 60 s or more
      keepAliveMaxTimeout: 600_000,
      connections: timeouts.maxConnectionsPerOrigin,
    });
  }

  /**
   * Sends one request. Resolves with status, headers and the unread body stream; rejects with a
   * GatewayError for transport failures (unreachable, timeout), never with a raw undici error,
   * and never with a message that includes the URL's query (which may carry a key).
   */
  async send(input: UpstreamSendInput): Promise<UpstreamResponse> {
    try {
      const response = await undiciRequest(input.url, {
        method: 'POST',
        headers: input.headers,
        body: input.body,
        signal: input.signal,
        dispatcher: this.agent,
      });
      return { statusCode: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      // The client went away: not the credential's fault, so no cooldown and no failover.
      if (input.signal.aborted || isAbortError(error)) throw error;
      throw transportError(error, input.provider);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
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

/** Maps an undici/socket failure to the catalog: 504 for timeouts, 502 for everything else. */
export function transportError(error: unknown, provider: string): GatewayError {
  if (error instanceof GatewayError) return error;
  if (
    error instanceof undiciErrors.ConnectTimeoutError ||
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError
  ) {
    return new GatewayError('GW_UPSTREAM_TIMEOUT', {
      provider,
      retryable: true,
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

/** Reads at most `maxErrorBodyBytes` of an error body, then drops the rest. */
export async function readErrorBody(body: UpstreamResponse['body']): Promise<string> {
  const pieces: Buffer[] = [];
  let total = 0;
  try {
    for await (const piece of body) {
      const buffer = piece as Buffer;
      pieces.push(buffer);
      total += buffer.length;
      if (total >= maxErrorBodyBytes) break;
    }
  } catch {
    // A body that fails part-way still yields what arrived; the status code alone is enough to map.
  } finally {
    body.destroy();
  }
  return Buffer.concat(pieces).subarray(0, maxErrorBodyBytes).toString('utf8');
}

/** Reads a whole success body, bounded by `limitBytes` (a non-streamed completion is small). */
export async function readBody(body: UpstreamResponse['body'], limitBytes: number, provider: string): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let total = 0;
  try {
    for await (const piece of body) {
      const buffer = piece as Buffer;
      total += buffer.length;
      if (total > limitBytes) {
        body.destroy();
        throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', {
          provider,
          message: `Provider '${provider}' sent a response larger than ${limitBytes} bytes.`,
        });
      }
      pieces.push(buffer);
    }
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw transportError(error, provider);
  }
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, total);
}
