import { GatewayError } from '../../errors/gateway-error.js';
import { createSseParser, encodeSseEvent } from '../../formats/sse.js';
import type { UpstreamEnvelope } from '../types.js';

/**
 * Gemini Code Assist (`cloudcode-pa.googleapis.com/v1internal`), the endpoint the Gemini CLI calls
 * when logged in with Google (google-gemini/gemini-cli, packages/core/src/code_assist/server.ts and
 * converter.ts). Its methods are `{base}:generateContent` and `{base}:streamGenerateContent?alt=sse`;
 * the Gemini request travels as `request` inside `{"model","project","request"}` (the project is the
 * user's Code Assist project: `loadCodeAssist` names it, free-tier accounts get a managed one), and
 * each answer (each stream event) is `{"response": <GenerateContentResponse>, "traceId"}`.
 */

/** The host the Gemini CLI reaches (its `CODE_ASSIST_ENDPOINT` default). */
export const codeAssistHost = 'cloudcode-pa.googleapis.com';

/** Code Assist when the host is Google's or the base path's last segment is `v1internal` (a stub, a private relay). */
export function isCodeAssistBaseUrl(baseUrl: URL): boolean {
  return baseUrl.hostname === codeAssistHost || /(^|\/)v1internal\/*$/.test(baseUrl.pathname);
}

function badEnvelope(message: string): GatewayError {
  return new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: `The Code Assist upstream ${message}.` });
}

/** The inner answer of one envelope (`response`), as JSON text; an `error` member or no `response` is a failure. */
function innerAnswer(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: 'The Code Assist upstream sent an answer that is not JSON.', cause: error });
  }
  const envelope = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown> | null | undefined;
  if (typeof envelope !== 'object' || envelope === null) throw badEnvelope('sent an answer that is not a JSON object');
  if (typeof envelope['response'] === 'object' && envelope['response'] !== null) return JSON.stringify(envelope['response']);
  // An error inside a 200 stream: handed to the bridge as Gemini's own error chunk, which fails the stream there.
  if (typeof envelope['error'] === 'object' && envelope['error'] !== null) return JSON.stringify({ error: envelope['error'] });
  throw badEnvelope('sent an answer without a response');
}

/**
 * The envelope of one request. `project` comes from `providers.<name>.project` (config validation
 * requires it for a Code Assist base_url). The request is wrapped by concatenation: the bridge's
 * bytes (the client's own, for a Gemini client) are not parsed or re-serialised.
 */
export function createCodeAssistEnvelope(options: { model: string; project: string | undefined }): UpstreamEnvelope {
  const head = Buffer.from(`{"model":${JSON.stringify(options.model)},${options.project === undefined ? '' : `"project":${JSON.stringify(options.project)},`}"request":`);
  const tail = Buffer.from('}');
  return {
    wrapRequest: (body) => Buffer.concat([head, typeof body === 'string' ? Buffer.from(body) : body, tail]),
    unwrapAnswer: (body) => Buffer.from(innerAnswer(body.toString('utf8'))),
    createStreamUnwrapper() {
      const parser = createSseParser();
      // A global, not node:string_decoder (providers import no Node module): keeps a UTF-8 character split across pieces whole.
      const decoder = new TextDecoder('utf-8');
      const unwrap = (events: { data: string }[]): Buffer => {
        let text = '';
        for (const event of events) if (event.data.trim() !== '') text += encodeSseEvent(innerAnswer(event.data));
        return Buffer.from(text);
      };
      return {
        push: (piece) => unwrap(parser.push(decoder.decode(piece, { stream: true }))),
        flush: () => unwrap([...parser.push(decoder.decode()), ...parser.flush()]),
      };
    },
  };
}
