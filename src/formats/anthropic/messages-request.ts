import { Type, type Static } from '@sinclair/typebox';

/**
 * Anthropic Messages request (POST /v1/messages), as the public API reference shapes it.
 * Known fields are typed and range-checked; unknown top-level fields (new betas such as
 * `thinking`, `context_management`) are allowed so Claude Code keeps working through a pass-through.
 */
const CacheControl = Type.Optional(Type.Unknown());

export const AnthropicTextBlock = Type.Object(
  { type: Type.Literal('text'), text: Type.String(), cache_control: CacheControl },
  { additionalProperties: true },
);
export const AnthropicImageBlock = Type.Object(
  {
    type: Type.Literal('image'),
    source: Type.Union([
      Type.Object({ type: Type.Literal('base64'), media_type: Type.String(), data: Type.String() }),
      Type.Object({ type: Type.Literal('url'), url: Type.String() }),
    ]),
    cache_control: CacheControl,
  },
  { additionalProperties: true },
);
export const AnthropicToolUseBlock = Type.Object(
  {
    type: Type.Literal('tool_use'),
    id: Type.String(),
    name: Type.String(),
    input: Type.Unknown(),
    cache_control: CacheControl,
  },
  { additionalProperties: true },
);
export const AnthropicToolResultBlock = Type.Object(
  {
    type: Type.Literal('tool_result'),
    tool_use_id: Type.String(),
    content: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Union([AnthropicTextBlock, AnthropicImageBlock]))])),
    is_error: Type.Optional(Type.Boolean()),
    cache_control: CacheControl,
  },
  { additionalProperties: true },
);
/** thinking, redacted_thinking, document, server tool blocks...: passed through, dropped by translation. */
const OtherBlock = Type.Object({ type: Type.String() }, { additionalProperties: true });

export const AnthropicContentBlock = Type.Union([
  AnthropicTextBlock,
  AnthropicImageBlock,
  AnthropicToolUseBlock,
  AnthropicToolResultBlock,
  OtherBlock,
]);

/**
 * `system` inside `messages` is not in the public reference, but Claude Code (2.1.x) sends its
 * environment section that way, mid-conversation, with the `per-turn-control` beta. Refusing it
 * would break every Claude Code request; same-format traffic forwards it untouched and the
 * translation to OpenAI turns it into a system message at the same position.
 */
export const AnthropicMessage = Type.Object({
  role: Type.Union([Type.Literal('user'), Type.Literal('assistant'), Type.Literal('system')]),
  content: Type.Union([Type.String(), Type.Array(AnthropicContentBlock)]),
});

export const AnthropicTool = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.Optional(Type.String()),
    input_schema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    type: Type.Optional(Type.String()),
    cache_control: CacheControl,
  },
  { additionalProperties: true },
);

export const AnthropicToolChoice = Type.Union([
  Type.Object({ type: Type.Literal('auto'), disable_parallel_tool_use: Type.Optional(Type.Boolean()) }),
  Type.Object({ type: Type.Literal('any'), disable_parallel_tool_use: Type.Optional(Type.Boolean()) }),
  Type.Object({ type: Type.Literal('none') }),
  Type.Object({ type: Type.Literal('tool'), name: Type.String(), disable_parallel_tool_use: Type.Optional(Type.Boolean()) }),
]);

const System = Type.Union([Type.String(), Type.Array(AnthropicTextBlock)]);

export const AnthropicMessagesRequest = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 256 }),
    messages: Type.Array(AnthropicMessage),
    max_tokens: Type.Integer({ minimum: 1 }),
    system: Type.Optional(System),
    stream: Type.Optional(Type.Boolean()),
    stop_sequences: Type.Optional(Type.Array(Type.String())),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    top_k: Type.Optional(Type.Integer({ minimum: 0 })),
    tools: Type.Optional(Type.Array(AnthropicTool)),
    tool_choice: Type.Optional(AnthropicToolChoice),
    metadata: Type.Optional(Type.Object({ user_id: Type.Optional(Type.Union([Type.String(), Type.Null()])) }, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

/** POST /v1/messages/count_tokens takes the request without max_tokens and stream. */
export const AnthropicCountTokensRequest = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 256 }),
    messages: Type.Array(AnthropicMessage),
    system: Type.Optional(System),
    tools: Type.Optional(Type.Array(AnthropicTool)),
    tool_choice: Type.Optional(AnthropicToolChoice),
  },
  { additionalProperties: true },
);

export type AnthropicTextBlock = Static<typeof AnthropicTextBlock>;
export type AnthropicImageBlock = Static<typeof AnthropicImageBlock>;
export type AnthropicToolUseBlock = Static<typeof AnthropicToolUseBlock>;
export type AnthropicToolResultBlock = Static<typeof AnthropicToolResultBlock>;
export type AnthropicContentBlock = Static<typeof AnthropicContentBlock>;
export type AnthropicMessage = Static<typeof AnthropicMessage>;
export type AnthropicTool = Static<typeof AnthropicTool>;
export type AnthropicToolChoice = Static<typeof AnthropicToolChoice>;
export type AnthropicMessagesRequest = Static<typeof AnthropicMessagesRequest>;
export type AnthropicCountTokensRequest = Static<typeof AnthropicCountTokensRequest>;
