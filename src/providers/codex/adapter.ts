import { GatewayError } from '../../errors/gateway-error.js';
import type { BuildRequestInput, ProviderAdapter, UpstreamRequestTarget } from '../types.js';
import { assertHeaderValue, joinUrl, mergeHeaders } from '../adapter-support.js';
import { chatgptAccountIdOf } from './account-id.js';
import { mapCodexError } from './errors.js';

/**
 * A Responses API upstream, reached at `${base_url}/responses`:
 *
 * - with an API key: `base_url: https://api.openai.com/v1` (or any server speaking the Responses
 *   API); the key travels as a bearer token.
 * - with a stored `openai-codex` OAuth credential (a ChatGPT login, as Codex CLI's):
 *   `base_url: https://chatgpt.com/backend-api/codex`, the access token as a bearer token plus what
 *   Codex CLI sends the ChatGPT backend: `chatgpt-account-id` (the account id from the token's
 *   `https://api.openai.com/auth` claim), `OpenAI-Beta: responses=experimental` and
 *   `originator: codex_cli_rs`.
 *
 * Requests always stream (`accept: text/event-stream`): the ChatGPT backend serves streams only, and
 * the bridges to this upstream ask for one even for a non-streamed client (bridges/codex-answer.ts
 * builds the JSON answer from `response.completed`). No client header is forwarded.
 */
export const codexOriginator = 'codex_cli_rs';
export const codexBetaHeader = 'responses=experimental';

function buildCodexRequest(input: BuildRequestInput): UpstreamRequestTarget {
  if (input.operation !== 'chat') {
    throw new GatewayError('GW_INTERNAL', { message: `The codex adapter cannot build a ${input.operation} request.` });
  }
  const { credential } = input;
  const token = assertHeaderValue(credential.kind === 'api_key' ? credential.apiKey : credential.accessToken, `credential ${credential.id}`);
  const own: Record<string, string> = { authorization: `Bearer ${token}` };
  if (credential.kind === 'oauth') {
    const accountId = chatgptAccountIdOf(token);
    if (accountId !== undefined) own['chatgpt-account-id'] = assertHeaderValue(accountId, `credential ${credential.id} account id`);
    own['openai-beta'] = codexBetaHeader;
    own.originator = codexOriginator;
  }
  own['content-type'] = 'application/json';
  own.accept = 'text/event-stream';
  return { url: joinUrl(input.baseUrl, 'responses'), headers: mergeHeaders(input.extraHeaders, own) };
}

export const codexAdapter: ProviderAdapter = {
  type: 'codex',
  format: 'openai-responses',
  supportsCountTokens: false,
  buildRequest: buildCodexRequest,
  mapError: mapCodexError,
};
