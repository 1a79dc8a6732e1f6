import { request as undiciRequest, type Dispatcher } from 'undici';
import type { TokenRequest } from '../providers/oauth-grant.js';

/** A token endpoint answer is read at most this far (64 KiB): real answers are a few hundred bytes. */
const maxTokenResponseBytes = 64 * 1024;

export interface TokenHttpResponse {
  status: number;
  /** Not redacted: it holds tokens. Only oauth-grant.ts parseTokenResponse may look at it. */
  bodyText: string;
}

/** Sends a token request; swapped for a fake only in unit tests that do not need HTTP. */
export type TokenHttpCall = (request: TokenRequest, signal: AbortSignal) => Promise<TokenHttpResponse>;

/**
 * POSTs the token request with undici. The caller's signal carries the refresh deadline, so a
 * token endpoint that accepts the connection and never answers is cut off, not waited on forever.
 * The body Buffer (it holds the refresh token) is zero-filled once undici has taken it.
 * Errors are rethrown without the URL or body, which a caller might otherwise log.
 */
export function createTokenHttpCall(dispatcher?: Dispatcher): TokenHttpCall {
  return async (tokenRequest, signal) => {
    try {
      const response = await undiciRequest(tokenRequest.url, {
        method: 'POST',
        headers: tokenRequest.headers,
        body: tokenRequest.body,
        signal,
        ...(dispatcher === undefined ? {} : { dispatcher }),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        const piece = chunk as Buffer;
        size += piece.length;
        if (size > maxTokenResponseBytes) {
          response.body.destroy();
          throw new Error(`token endpoint answer larger than ${maxTokenResponseBytes} bytes`);
        }
        chunks.push(piece);
      }
      const joined = Buffer.concat(chunks);
      const bodyText = joined.toString('utf8');
      joined.fill(0);
      for (const chunk of chunks) chunk.fill(0);
      return { status: response.statusCode, bodyText };
    } catch (error) {
      if (signal.aborted) throw new TokenCallAbortedError();
      const code = typeof error === 'object' && error !== null && 'code' in error ? String((error).code) : 'unknown';
      throw new Error(`token endpoint unreachable (${code})`);
    } finally {
      tokenRequest.body.fill(0);
    }
  };
}

/** The deadline fired while the token call was in flight. */
export class TokenCallAbortedError extends Error {
  constructor() {
    super('token call aborted at the refresh deadline');
    this.name = 'TokenCallAbortedError';
  }
}
