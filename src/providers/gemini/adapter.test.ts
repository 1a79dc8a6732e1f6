import { describe, expect, it } from 'vitest';
import { providerErrorFixtures } from '../../../test/helpers/provider-testing.js';
import { isCodeAssistUrl } from '../../config/validate-gemini.js';
import type { ReadonlyProviderConfig } from '../../config/schema.js';
import type { ApiKeyCredential, BuildRequestInput, OAuthCredential } from '../types.js';
import { geminiAdapter } from './adapter.js';
import { isCodeAssistBaseUrl } from './code-assist.js';
import { mapGeminiError } from './errors.js';

const { mapFixture } = providerErrorFixtures(new URL('./__fixtures__/', import.meta.url), mapGeminiError, 'gem');

const apiKey: ApiKeyCredential = { id: 'gem-key-1', provider: 'gem', priority: 0, kind: 'api_key', apiKey: 'test-upstream-key-0201' };
const oauth: OAuthCredential = { id: 'gem-oauth-1', provider: 'gem', priority: 0, kind: 'oauth', accessToken: 'test-access-token-0201', expiresAt: 1_900_000_000_000 };

function input(overrides: Partial<BuildRequestInput> = {}): BuildRequestInput {
  return { operation: 'chat', credential: apiKey, baseUrl: new URL('https://generativelanguage.googleapis.com/v1beta'), model: 'gemini-2.5-flash', stream: false, clientHeaders: {}, ...overrides };
}

const provider = (baseUrl: string, project?: string): ReadonlyProviderConfig => ({ type: 'gemini', base_url: baseUrl, api_keys: [], models: [], ...(project === undefined ? {} : { project }) });

describe('gemini adapter: request building', () => {
  it('reaches the Gemini API with the model in the path, ?alt=sse for streams, the version added to a bare host', () => {
    expect(geminiAdapter.buildRequest(input()).url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
    expect(geminiAdapter.buildRequest(input({ stream: true })).url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(geminiAdapter.buildRequest(input({ baseUrl: new URL('https://generativelanguage.googleapis.com/') })).url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
    expect(geminiAdapter.buildRequest(input({ baseUrl: new URL('http://127.0.0.1:9000/relay/v1beta/') })).url).toBe('http://127.0.0.1:9000/relay/v1beta/models/gemini-2.5-flash:generateContent');
  });

  it('gives the same URL when asked again with the same base, model and method (remembered), and the right one for each', () => {
    const baseUrl = new URL('http://127.0.0.1:9000/v1beta?tenant=a');
    const urls = [false, true, false, true].map((stream) => geminiAdapter.buildRequest(input({ baseUrl, stream })).url);
    expect(urls).toEqual([
      'http://127.0.0.1:9000/v1beta/models/gemini-2.5-flash:generateContent?tenant=a',
      'http://127.0.0.1:9000/v1beta/models/gemini-2.5-flash:streamGenerateContent?tenant=a&alt=sse',
      'http://127.0.0.1:9000/v1beta/models/gemini-2.5-flash:generateContent?tenant=a',
      'http://127.0.0.1:9000/v1beta/models/gemini-2.5-flash:streamGenerateContent?tenant=a&alt=sse',
    ]);
    expect(geminiAdapter.buildRequest(input({ baseUrl, model: 'gemini-2.5-pro' })).url).toBe('http://127.0.0.1:9000/v1beta/models/gemini-2.5-pro:generateContent?tenant=a');
  });

  it('reaches Code Assist at {base}:method for a cloudcode-pa host or a v1internal path', () => {
    expect(geminiAdapter.buildRequest(input({ baseUrl: new URL('https://cloudcode-pa.googleapis.com'), credential: oauth, stream: true })).url).toBe('https://cloudcode-pa.googleapis.com/v1internal:streamGenerateContent?alt=sse');
    expect(geminiAdapter.buildRequest(input({ baseUrl: new URL('http://127.0.0.1:9000/v1internal'), credential: oauth })).url).toBe('http://127.0.0.1:9000/v1internal:generateContent');
  });

  it('sends an API key as x-goog-api-key (never ?key=) and an OAuth token as a bearer token', () => {
    const keyed = geminiAdapter.buildRequest(input());
    expect(keyed.headers).toEqual({ 'x-goog-api-key': 'test-upstream-key-0201', 'content-type': 'application/json', accept: 'application/json' });
    expect(keyed.url).not.toContain('key=');
    const bearer = geminiAdapter.buildRequest(input({ credential: oauth, stream: true })).headers;
    expect(bearer).toEqual({ authorization: 'Bearer test-access-token-0201', 'content-type': 'application/json', accept: 'text/event-stream' });
  });

  it('refuses a model name that would change the path, and a key with a line break, without echoing it', () => {
    for (const model of ['../../admin', 'a/b', 'x:streamGenerateContent?alt=sse#', '']) {
      expect(() => geminiAdapter.buildRequest(input({ model }))).toThrow(expect.objectContaining({ code: 'GW_INTERNAL' }));
    }
    const injected: ApiKeyCredential = { ...apiKey, apiKey: 'test-upstream-key\r\nx-evil: 1' };
    expect(() => geminiAdapter.buildRequest(input({ credential: injected }))).toThrow(expect.not.objectContaining({ message: expect.stringContaining('test-upstream-key') }));
  });

  it('does not count tokens upstream (the routes estimate) and builds no count_tokens request', () => {
    expect(geminiAdapter.supportsCountTokens).toBe(false);
    expect(() => geminiAdapter.buildRequest(input({ operation: 'count_tokens' }))).toThrow(expect.objectContaining({ code: 'GW_INTERNAL' }));
  });
});

describe('gemini adapter: Code Assist envelope', () => {
  it('is used only for a Code Assist base_url; config validation picks the same URLs', () => {
    const urls = ['https://cloudcode-pa.googleapis.com', 'https://cloudcode-pa.googleapis.com/v1internal', 'http://127.0.0.1:1/v1internal/', 'https://generativelanguage.googleapis.com/v1beta', 'http://127.0.0.1:1/v1internalx', 'https://cloudcode-pa.googleapis.com.evil.test/'];
    for (const url of urls) expect(isCodeAssistUrl(url), url).toBe(isCodeAssistBaseUrl(new URL(url)));
    expect(geminiAdapter.envelopeFor?.({ baseUrl: new URL(urls[3] as string), model: 'm', provider: provider(urls[3] as string) })).toBeUndefined();
  });

  it('wraps the body bytes unchanged and unwraps answers and stream events', () => {
    const envelope = geminiAdapter.envelopeFor?.({ baseUrl: new URL('https://cloudcode-pa.googleapis.com'), model: 'gemini-2.5-pro', provider: provider('https://cloudcode-pa.googleapis.com', 'subtle-plasma-1b54t') });
    if (envelope === undefined) throw new Error('expected an envelope');
    const clientBytes = Buffer.from('{"contents":[{"role":"user","parts":[{"text":"hé","thoughtSignature":"c2ln"}]}], "x" : 1}');
    const wrapped = envelope.wrapRequest(clientBytes).toString();
    expect(wrapped).toBe(`{"model":"gemini-2.5-pro","project":"subtle-plasma-1b54t","request":${clientBytes.toString()}}`);
    expect(JSON.parse(envelope.unwrapAnswer(Buffer.from('{"response":{"candidates":[]},"traceId":"t"}')).toString())).toEqual({ candidates: [] });
    expect(() => envelope.unwrapAnswer(Buffer.from('{"traceId":"t"}'))).toThrow(expect.objectContaining({ code: 'GW_UPSTREAM_BAD_RESPONSE' }));
    const unwrapper = envelope.createStreamUnwrapper();
    const stream = Buffer.from('data: {"response":{"candidates":[{"content":{"parts":[{"text":"é"}]}}]}}\r\n\r\ndata: {"error":{"code":429,"message":"quota"}}\r\n\r\n');
    // A piece boundary inside the two-byte é must not break it.
    const cut = stream.indexOf(Buffer.from('é')) + 1;
    const out = Buffer.concat([unwrapper.push(stream.subarray(0, cut)), unwrapper.push(stream.subarray(cut)), unwrapper.flush()]).toString();
    expect(out).toBe('data: {"candidates":[{"content":{"parts":[{"text":"é"}]}}]}\n\ndata: {"error":{"code":429,"message":"quota"}}\n\n');
  });
});

describe('gemini adapter: error mapping (recorded bodies)', () => {
  it('passes a bad request through as a 400 with its message, not retried', () => {
    const error = mapFixture('400-invalid-argument');
    expect(error).toMatchObject({ code: 'GW_UPSTREAM_BAD_REQUEST', status: 400, retryable: false });
    expect(error.message).toContain('contents.parts must not be empty');
  });

  it('treats an invalid API key (a 400 at Gemini) as a credential failure, so failover tries the next key', () => {
    expect(mapFixture('400-api-key-invalid')).toMatchObject({ code: 'GW_UPSTREAM_AUTH_FAILED', retryable: true });
    expect(mapFixture('403-permission-denied')).toMatchObject({ code: 'GW_UPSTREAM_AUTH_FAILED', retryable: true });
  });

  it("takes a 429's wait from RetryInfo in the body, and reads Code Assist's array-wrapped errors", () => {
    expect(mapFixture('429-resource-exhausted')).toMatchObject({ code: 'GW_UPSTREAM_RATE_LIMITED', retryable: true, retryAfterSeconds: 37 });
    const codeAssist = mapFixture('429-code-assist-array');
    expect(codeAssist).toMatchObject({ code: 'GW_UPSTREAM_RATE_LIMITED' });
    expect(codeAssist.message).toContain('Resource has been exhausted');
  });

  it('maps 500 to a retryable upstream error and 503 to overloaded', () => {
    expect(mapFixture('500-internal')).toMatchObject({ code: 'GW_UPSTREAM_ERROR', retryable: true });
    expect(mapFixture('503-unavailable')).toMatchObject({ code: 'GW_UPSTREAM_OVERLOADED', retryable: true });
  });
});
