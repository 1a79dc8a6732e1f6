import { GatewayError } from '../../errors/gateway-error.js';
import type { BuildRequestInput, EnvelopeInput, ProviderAdapter, UpstreamEnvelope, UpstreamRequestTarget } from '../types.js';
import { assertHeaderValue, mergeHeaders } from '../adapter-support.js';
import { createCodeAssistEnvelope, isCodeAssistBaseUrl } from './code-assist.js';
import { mapGeminiError } from './errors.js';

/**
 * The Gemini upstream, at one of two endpoints chosen by `base_url`:
 * - the Gemini API (`https://generativelanguage.googleapis.com/v1beta`, the default form): API keys,
 *   sent as `x-goog-api-key` (never `?key=`, which would put the key in URLs and logs), at
 *   `{base}/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`;
 * - Code Assist (`https://cloudcode-pa.googleapis.com/v1internal`, the endpoint the Gemini CLI
 *   uses when logged in with Google): the stored `google` OAuth credentials, as a bearer token, at
 *   `{base}:generateContent` / `:streamGenerateContent?alt=sse`, the body inside the
 *   `{model, project, request}` envelope (code-assist.ts). The Gemini CLI's OAuth client is not
 *   allowed on the Gemini API; its tokens are only accepted there.
 * A base_url without a path gets the endpoint's version (`/v1beta`, `/v1internal`).
 */

/** Model names are the provider's own config values; anything outside this set is refused, not escaped into a path. */
const modelNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The base URL's path with the endpoint's version added when it has none, without a trailing slash. */
export function endpointPath(baseUrl: URL): string {
  const path = baseUrl.pathname.replace(/\/+$/, '');
  if (path !== '') return path;
  return isCodeAssistBaseUrl(baseUrl) ? '/v1internal' : '/v1beta';
}

/**
 * The method URLs built so far, per base URL object (the provider's, parsed once at config load),
 * method and model: parsing and editing a URL cost ~5 µs per request in the profile. Bounded: a full
 * map is emptied (models come from the config, so a handful per provider). A model is checked
 * against modelNamePattern before its URL is built, so a cached URL's model has passed the check.
 */
const methodUrls = new WeakMap<URL, { json: Map<string, string>; stream: Map<string, string> }>();
const maxMethodUrlsPerBase = 1024;

/** `{base}/models/{model}:{method}` (Gemini API) or `{base}:{method}` (Code Assist), `?alt=sse` for a stream, the base's query kept. */
export function geminiMethodUrl(baseUrl: URL, model: string, stream: boolean): string {
  let known = methodUrls.get(baseUrl);
  if (known === undefined) {
    known = { json: new Map(), stream: new Map() };
    methodUrls.set(baseUrl, known);
  }
  const urls = stream ? known.stream : known.json;
  let url = urls.get(model);
  if (url === undefined) {
    if (!modelNamePattern.test(model)) {
      throw new GatewayError('GW_INTERNAL', { message: 'The gemini adapter got a model name that cannot be put in a URL path.' });
    }
    url = buildMethodUrl(baseUrl, model, stream);
    if (urls.size >= maxMethodUrlsPerBase) urls.clear();
    urls.set(model, url);
  }
  return url;
}

function buildMethodUrl(baseUrl: URL, model: string, stream: boolean): string {
  const method = stream ? 'streamGenerateContent' : 'generateContent';
  const url = new URL(baseUrl.href);
  url.hash = '';
  url.pathname = isCodeAssistBaseUrl(baseUrl) ? `${endpointPath(baseUrl)}:${method}` : `${endpointPath(baseUrl)}/models/${model}:${method}`;
  if (stream) url.searchParams.set('alt', 'sse');
  return url.href;
}

/** A chat request's URL and headers: an API key travels in `x-goog-api-key`, an OAuth token as a bearer token. */
function buildGeminiRequest(input: BuildRequestInput): UpstreamRequestTarget {
  if (input.operation !== 'chat') {
    // supportsCountTokens is false: the routes estimate instead; reaching this is a gateway bug.
    throw new GatewayError('GW_INTERNAL', { message: `The gemini adapter cannot build a ${input.operation} request.` });
  }
  const url = geminiMethodUrl(input.baseUrl, input.model, input.stream);
  const accept = input.stream ? 'text/event-stream' : 'application/json';
  const { credential } = input;
  // One object literal per credential kind: spreading a helper's object into another was ~1 µs per request.
  const headers: Record<string, string> =
    credential.kind === 'api_key'
      ? { 'x-goog-api-key': assertHeaderValue(credential.apiKey, `credential ${credential.id}`), 'content-type': 'application/json', accept }
      : { authorization: `Bearer ${assertHeaderValue(credential.accessToken, `credential ${credential.id}`)}`, 'content-type': 'application/json', accept };
  return { url, headers: mergeHeaders(input.extraHeaders, headers) };
}

function geminiEnvelope(input: EnvelopeInput): UpstreamEnvelope | undefined {
  if (!isCodeAssistBaseUrl(input.baseUrl)) return undefined;
  return createCodeAssistEnvelope({ model: input.model, project: input.provider.project });
}

export const geminiAdapter: ProviderAdapter = {
  type: 'gemini',
  format: 'gemini',
  // The gateway estimates countTokens for every upstream (routes/gemini.ts); Code Assist's
  // countTokens takes another envelope and is not needed for that.
  supportsCountTokens: false,
  buildRequest: buildGeminiRequest,
  mapError: mapGeminiError,
  envelopeFor: geminiEnvelope,
};
