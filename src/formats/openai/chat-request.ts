import { Type, type Static } from '@sinclair/typebox';

/**
 * OpenAI Chat Completions request (POST /v1/chat/completions), as the public API reference shapes it.
 * Known fields are typed and range-checked. Unknown top-level fields are allowed on purpose: OpenAI
 * adds request fields often and a same-format pass-through must not break a current SDK; translation
 * ignores fields it does not know (see docs/architecture.md, "strict inward").
 */
const ImageUrlPart = Type.Object({
  type: Type.Literal('image_url'),
  image_url: Type.Object({ url: Type.String({ minLength: 1 }), detail: Type.Optional(Type.String()) }),
});
const TextPart = Type.Object({ type: Type.Literal('text'), text: Type.String() });
const OtherPart = Type.Object({ type: Type.String() }, { additionalProperties: true });
export const OpenAIContentPart = Type.Union([TextPart, ImageUrlPart, OtherPart]);

export const OpenAIToolCall = Type.Object({
  id: Type.String(),
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String(), arguments: Type.String() }),
});

const Content = Type.Union([Type.String(), Type.Array(OpenAIContentPart), Type.Null()]);

export const OpenAIMessage = Type.Union([
  Type.Object({ role: Type.Union([Type.Literal('system'), Type.Literal('developer')]), content: Content, name: Type.Optional(Type.String()) }),
  Type.Object({ role: Type.Literal('user'), content: Content, name: Type.Optional(Type.String()) }),
  Type.Object({
    role: Type.Literal('assistant'),
    content: Type.Optional(Content),
    name: Type.Optional(Type.String()),
    tool_calls: Type.Optional(Type.Array(OpenAIToolCall)),
    refusal: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
  Type.Object({ role: Type.Literal('tool'), content: Content, tool_call_id: Type.String() }),
]);

export const OpenAITool = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  }),
});

export const OpenAIToolChoice = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Literal('required'),
  Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: Type.String() }) }),
]);

export const OpenAIChatRequest = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 256 }),
    messages: Type.Array(OpenAIMessage, { minItems: 1 }),
    stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    stream_options: Type.Optional(
      Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: true }), Type.Null()]),
    ),
    max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
    top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
    n: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 128 }), Type.Null()])),
    stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 }), Type.Null()])),
    tools: Type.Optional(Type.Array(OpenAITool)),
    tool_choice: Type.Optional(OpenAIToolChoice),
    parallel_tool_calls: Type.Optional(Type.Boolean()),
    user: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export type OpenAIContentPart = Static<typeof OpenAIContentPart>;
export type OpenAIToolCall = Static<typeof OpenAIToolCall>;
export type OpenAIMessage = Static<typeof OpenAIMessage>;
export type OpenAITool = Static<typeof OpenAITool>;
export type OpenAIToolChoice = Static<typeof OpenAIToolChoice>;
export type OpenAIChatRequest = Static<typeof OpenAIChatRequest>;
