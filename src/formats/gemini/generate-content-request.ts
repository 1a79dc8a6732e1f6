import { Type, type Static } from '@sinclair/typebox';

/**
 * Gemini `generateContent` request (POST /v1beta/models/{model}:generateContent), as the
 * `@google/genai` SDK and the Gemini CLI send it. The model is in the URL, not the body. Known
 * fields are typed; unknown fields are allowed (the SDK adds fields often, and translation ignores
 * what it does not know), as for the other surfaces.
 */
const InlineData = Type.Object({ mimeType: Type.String({ minLength: 1 }), data: Type.String() }, { additionalProperties: true });

const FunctionCall = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128 }), args: Type.Optional(Type.Record(Type.String(), Type.Unknown())), id: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

const FunctionResponse = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128 }), response: Type.Optional(Type.Record(Type.String(), Type.Unknown())), id: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

/** One part: exactly one of text, inlineData, functionCall, functionResponse is expected; others are refused by the translator. */
export const GeminiPart = Type.Object(
  {
    text: Type.Optional(Type.String()),
    thought: Type.Optional(Type.Boolean()),
    /** Gemini 2.5+/3's opaque signature of its reasoning; must come back on the part it was on (pass-through keeps it). */
    thoughtSignature: Type.Optional(Type.String()),
    inlineData: Type.Optional(InlineData),
    functionCall: Type.Optional(FunctionCall),
    functionResponse: Type.Optional(FunctionResponse),
  },
  { additionalProperties: true },
);

export const GeminiContent = Type.Object(
  { role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('model'), Type.Literal('function')])), parts: Type.Array(GeminiPart) },
  { additionalProperties: true },
);

export const GeminiFunctionDeclaration = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    parametersJsonSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);

export const GeminiTool = Type.Object({ functionDeclarations: Type.Optional(Type.Array(GeminiFunctionDeclaration)) }, { additionalProperties: true });

export const GeminiGenerationConfig = Type.Object(
  {
    maxOutputTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    topP: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    topK: Type.Optional(Type.Number({ minimum: 0 })),
    stopSequences: Type.Optional(Type.Array(Type.String(), { maxItems: 16 })),
    candidateCount: Type.Optional(Type.Integer({ minimum: 1 })),
    responseMimeType: Type.Optional(Type.String()),
    responseSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    thinkingConfig: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);

export const GeminiGenerateContentRequest = Type.Object(
  {
    contents: Type.Array(GeminiContent),
    systemInstruction: Type.Optional(GeminiContent),
    generationConfig: Type.Optional(GeminiGenerationConfig),
    tools: Type.Optional(Type.Array(GeminiTool)),
    toolConfig: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);

/** `countTokens` takes `contents` alone, or a whole `generateContentRequest` (the SDK sends the former). */
export const GeminiCountTokensRequest = Type.Union([
  Type.Object({ contents: Type.Array(GeminiContent), generateContentRequest: Type.Optional(GeminiGenerateContentRequest) }, { additionalProperties: true }),
  Type.Object({ contents: Type.Optional(Type.Array(GeminiContent)), generateContentRequest: GeminiGenerateContentRequest }, { additionalProperties: true }),
]);

export type GeminiPart = Static<typeof GeminiPart>;
export type GeminiContent = Static<typeof GeminiContent>;
export type GeminiFunctionDeclaration = Static<typeof GeminiFunctionDeclaration>;
export type GeminiTool = Static<typeof GeminiTool>;
export type GeminiGenerateContentRequest = Static<typeof GeminiGenerateContentRequest>;
export type GeminiCountTokensRequest = Static<typeof GeminiCountTokensRequest>;
