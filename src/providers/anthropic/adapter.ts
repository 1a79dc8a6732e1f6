import type { BuildRequestInput, ProviderAdapter, UpstreamRequestTarget } from '../types.js';
import { assertHeaderValue, headerValues, joinUrl, mergeHeaders } from '../adapter-support.js';
import { mapAnthropicError } from './errors.js';

/**
 * The Anthropic Messages API, with an API key (`x-api-key`) or a Claude Code OAuth token
 * (`authorization: Bearer` plus the `oauth-2025-04-20` beta, without which the API refuses OAuth).
 */

/** The API version sent when the client names none; the only version Anthropic has published. */
export const defaultAnthropicVersion = '2023-06-01';
/** The beta flag Anthropic requires on requests authenticated with an OAuth access token. */
export const oauthBetaFlag = 'oauth-2025-04-20';

/** Beta tokens are lower-case words with dashes (`prompt-caching-2024-07-31`); nothing else is forwarded. */
const betaTokenPattern = /^[a-z0-9-]+$/;
const versionPattern = /^\d{4}-\d{2}-\d{2}$/;
/** Bounds on what a client can make us forward: 32 flags of at most 64 characters. */
const maxBetaTokens = 32;
const maxBetaTokenChars = 64;

const pathByOperation = {
  chat: 'v1/messages',
  count_tokens: 'v1/messages/count_tokens',
} as const;

/**
 * The client's `anthropic-version` when it looks like a date (YYYY-MM-DD), else the default. A
 * malformed value is replaced rather than refused: the upstream would reject it with a less
 * helpful error, and it cannot carry anything but a version this way.
 */
export function anthropicVersionFrom(clientHeaders: BuildRequestInput['clientHeaders']): string {
  const sent = headerValues(clientHeaders, 'anthropic-version')[0]?.trim();
  return sent !== undefined && versionPattern.test(sent) ? sent : defaultAnthropicVersion;
}

/**
 * The `anthropic-beta` tokens to send: the OAuth flag when needed, then the client's (comma lists,
 * possibly over several header lines), keeping only well-formed tokens, deduplicated, bounded.
 */
export function anthropicBetaTokens(clientHeaders: BuildRequestInput['clientHeaders'], oauth: boolean): string[] {
  const tokens = new Set<string>(oauth ? [oauthBetaFlag] : []);
  for (const value of headerValues(clientHeaders, 'anthropic-beta')) {
    for (const raw of value.split(',')) {
      const token = raw.trim();
      if (tokens.size >= maxBetaTokens) return [...tokens];
      if (token.length <= maxBetaTokenChars && betaTokenPattern.test(token)) tokens.add(token);
    }
  }
  return [...tokens];
}

function buildAnthropicRequest(input: BuildRequestInput): UpstreamRequestTarget {
  const { credential } = input;
  const own: Record<string, string> = {};
  if (credential.kind === 'api_key') {
    own['x-api-key'] = assertHeaderValue(credential.apiKey, `credential ${credential.id}`);
  } else {
    own.authorization = `Bearer ${assertHeaderValue(credential.accessToken, `credential ${credential.id}`)}`;
  }
  own['anthropic-version'] = anthropicVersionFrom(input.clientHeaders);
  const betaTokens = anthropicBetaTokens(input.clientHeaders, credential.kind === 'oauth');
  if (betaTokens.length > 0) own['anthropic-beta'] = betaTokens.join(',');
  own['content-type'] = 'application/json';
  own.accept = input.stream ? 'text/event-stream' : 'application/json';
  return { url: joinUrl(input.baseUrl, pathByOperation[input.operation]), headers: mergeHeaders(input.extraHeaders, own) };
}

export const anthropicAdapter: ProviderAdapter = {
  type: 'anthropic',
  format: 'anthropic-messages',
  supportsCountTokens: true,
  buildRequest: buildAnthropicRequest,
  mapError: mapAnthropicError,
};
