/**
 * A wire format: the request and answer bodies (and stream events) of one API. A client speaks one,
 * decided by the route it calls; each provider's adapter speaks exactly one upstream; a bridge
 * (`src/server/bridges/`) connects a client format to an upstream format.
 *
 * Not to be confused with the error shape (`src/server/error-shape.ts`), which is how an error is
 * rendered for a path: several formats can share one shape (OpenAI's Responses API renders
 * errors like chat completions, `openai-responses` only differs in its stream error event), and an
 * error can need a shape before any format is known (a 401 on `/v1beta/…`). `openai-responses` is
 * OpenAI's Responses API (POST /v1/responses, typed `response.*` stream events).
 *
 * `gemini` (generateContent, the model in the URL) is spoken by clients and by the `gemini` provider
 * type. `upstreamWireFormats` lists the formats an adapter can speak; the bridge registry covers
 * every client format against each of those.
 */
export const wireFormats = ['openai-chat', 'anthropic-messages', 'gemini', 'openai-responses'] as const;
export type WireFormat = (typeof wireFormats)[number];

/** The formats a provider adapter speaks today. */
export const upstreamWireFormats = ['openai-chat', 'anthropic-messages', 'gemini', 'openai-responses'] as const satisfies readonly WireFormat[];
