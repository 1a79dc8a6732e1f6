import type { IncomingHttpHeaders } from 'node:http';

/**
 * Where clients put their key, in the order we look: `Authorization: Bearer` (OpenAI SDK, and the
 * Anthropic SDK's `authToken`), `x-api-key` (Anthropic SDK), `x-goog-api-key` (Google SDK), and
 * `?key=` (Gemini REST). The first one present wins; a present-but-wrong key is not retried
 * against the other places, so a client cannot probe several keys in one request.
 */
export function extractClientKey(headers: IncomingHttpHeaders, url: string): string | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    return authorization.length > 7 && authorization.slice(0, 7).toLowerCase() === 'bearer ' ? authorization.slice(7).trim() : '';
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string') return apiKey;
  const googleKey = headers['x-goog-api-key'];
  if (typeof googleKey === 'string') return googleKey;
  const queryStart = url.indexOf('?');
  if (queryStart !== -1) {
    const key = new URLSearchParams(url.slice(queryStart + 1)).get('key');
    if (key !== null) return key;
  }
  return undefined;
}
