/**
 * A wire format: the request and answer bodies (and stream events) of one API. A client speaks one,
 * decided by the route it calls; each provider's adapter speaks exactly one upstream; a bridge
 * (`src/server/bridges/`) connects a client format to an upstream format.
 *
 * Not to be confused with the error shape (`src/server/error-shape.ts`), which is how an error is
 * rendered for a path: several formats can share one shape (OpenAI's Responses API will render
 * errors like chat completions), and an error can need a shape before any format is known (a 401
 * on `/v1beta/…`). Gemini's `generateContent` (the model in the URL) and OpenAI's Responses API
 * each add one member here when they are built.
 */
export const wireFormats = ['openai-chat', 'anthropic-messages'] as const;
export type WireFormat = (typeof wireFormats)[number];
