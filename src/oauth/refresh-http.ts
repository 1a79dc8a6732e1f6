import { Agent, getGlobalDispatcher, request as undiciRequest, type Dispatcher } from 'undici';
import { createGuardedLookup } from '../egress/egress-guard.js';
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
 *
 * Egress guard: the token URL's host name is resolved through the guard on each connect (a
 * private, loopback or metadata answer is refused) unless the provider sets
 * `allow_private_network`; redirects are not followed (`request` follows none by default).
 * `dispatchers` replaces both for tests.
 */
export function createTokenHttpCall(dispatchers?: { guarded: Dispatcher; open: Dispatcher }): TokenHttpCall {
  let guarded = dispatchers?.guarded;
  return async (tokenRequest, signal) => {
    // Created at the first refresh: a gateway without OAuth credentials never opens it.
    guarded ??= new Agent({ connect: { lookup: createGuardedLookup() } });
    const dispatcher = tokenRequest.allowPrivateNetwork === true ? (dispatchers?.open ?? getGlobalDispatcher()) : guarded;
    try {
      const response = await undiciRequest(tokenRequest.url, {
        method: 'POST',
        headers: tokenRequest.headers,
        body: tokenRequest.body,
        signal,
        dispatcher,
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
      // The guard's reason (host, address, kind) helps the operator and holds no secret.
      if (code === 'EGRESS_REFUSED') throw new Error(`token endpoint refused by the egress guard: ${(error as Error).message}`);
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
