import { GatewayError } from '../../errors/gateway-error.js';
import type { BuildRequestInput, ProviderAdapter, UpstreamCredential, UpstreamRequestTarget } from '../types.js';
import { assertHeaderValue, joinUrl, mergeHeaders } from '../adapter-support.js';
import { mapOpenAIError } from './errors.js';

/**
 * The OpenAI-compatible upstream: api.openai.com or any server speaking its wire format
 * (LM Studio, vLLM, llama.cpp, OpenRouter…), reached at `${base_url}/chat/completions`.
 */

/** API keys and OAuth access tokens (Codex login) both travel as a bearer token. */
function bearerToken(credential: UpstreamCredential): string {
  const token = credential.kind === 'api_key' ? credential.apiKey : credential.accessToken;
  return assertHeaderValue(token, `credential ${credential.id}`);
}

/**
 * Builds the upstream URL and headers. No client header is forwarded: an OpenAI client's headers
 * (its own key, `openai-organization`, `openai-project`) describe the client's account, not the
 * gateway's, and forwarding them would leak them upstream.
 */
function buildOpenAIRequest(input: BuildRequestInput): UpstreamRequestTarget {
  if (input.operation !== 'chat') {
    // Callers check supportsCountTokens first; reaching this is a gateway bug, not a client error.
    throw new GatewayError('GW_INTERNAL', { message: `The openai adapter cannot build a ${input.operation} request.` });
  }
  return {
    url: joinUrl(input.baseUrl, 'chat/completions'),
    headers: mergeHeaders(input.extraHeaders, {
      authorization: `Bearer ${bearerToken(input.credential)}`,
      'content-type': 'application/json',
      accept: input.stream ? 'text/event-stream' : 'application/json',
    }),
  };
}

export const openaiAdapter: ProviderAdapter = {
  type: 'openai',
  format: 'openai-chat',
  supportsCountTokens: false,
  buildRequest: buildOpenAIRequest,
  mapError: mapOpenAIError,
};
