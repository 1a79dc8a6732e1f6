import { Type, type Static } from '@sinclair/typebox';

/**
 * OpenAI Responses request (POST /v1/responses), as the `openai` SDK's `responses.create` and Codex
 * CLI send it. Known fields are typed and range-checked; unknown top-level fields are allowed (as on
 * the other surfaces: a pass-through to a Responses upstream must not break a current client, and
 * translation ignores what it does not know).
 *
 * Input items are a union whose last member takes any other `type` (Codex's `local_shell_call`,
 * `item_reference`, …) so a pass-through forwards them; that member's `type` pattern excludes the
 * four known types, so a malformed `function_call` (no `call_id`) is a 400 here, not "some other
 * item". Translators refuse the other types by name.
 */
const knownItemTypes = '^(?!(message|function_call|function_call_output|reasoning)$)';

const InputText = Type.Object({ type: Type.Literal('input_text'), text: Type.String() }, { additionalProperties: true });
const OutputText = Type.Object({ type: Type.Literal('output_text'), text: Type.String() }, { additionalProperties: true });
const InputImage = Type.Object(
  { type: Type.Literal('input_image'), image_url: Type.Optional(Type.Union([Type.String(), Type.Null()])), detail: Type.Optional(Type.String()) },
  { additionalProperties: true },
);
const Refusal = Type.Object({ type: Type.Literal('refusal'), refusal: Type.String() }, { additionalProperties: true });
const OtherContent = Type.Object(
  { type: Type.String({ pattern: '^(?!(input_text|output_text|input_image|refusal)$)' }) },
  { additionalProperties: true },
);
export const ResponsesContentPart = Type.Union([InputText, OutputText, InputImage, Refusal, OtherContent]);

export const ResponsesMessageItem = Type.Object(
  {
    type: Type.Optional(Type.Literal('message')),
    role: Type.Union([Type.Literal('user'), Type.Literal('assistant'), Type.Literal('system'), Type.Literal('developer')]),
    content: Type.Union([Type.String(), Type.Array(ResponsesContentPart)]),
    id: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const ResponsesFunctionCallItem = Type.Object(
  {
    type: Type.Literal('function_call'),
    call_id: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    arguments: Type.String(),
    id: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const ResponsesFunctionCallOutputItem = Type.Object(
  {
    type: Type.Literal('function_call_output'),
    call_id: Type.String({ minLength: 1 }),
    output: Type.Union([Type.String(), Type.Array(ResponsesContentPart)]),
  },
  { additionalProperties: true },
);

export const ResponsesReasoningItem = Type.Object(
  {
    type: Type.Literal('reasoning'),
    summary: Type.Optional(Type.Array(Type.Object({ type: Type.String(), text: Type.String() }, { additionalProperties: true }))),
    encrypted_content: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: true },
);

const OtherItem = Type.Object({ type: Type.String({ pattern: knownItemTypes }) }, { additionalProperties: true });

export const ResponsesInputItem = Type.Union([ResponsesMessageItem, ResponsesFunctionCallItem, ResponsesFunctionCallOutputItem, ResponsesReasoningItem, OtherItem]);

export const ResponsesFunctionTool = Type.Object(
  {
    type: Type.Literal('function'),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    parameters: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
    strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  },
  { additionalProperties: true },
);
/** Hosted tools (`web_search`, `file_search`), `custom`, `namespace`, …: forwarded to a Responses upstream, refused by translators. */
const OtherTool = Type.Object({ type: Type.String({ pattern: '^(?!function$)' }) }, { additionalProperties: true });
export const ResponsesTool = Type.Union([ResponsesFunctionTool, OtherTool]);

export const ResponsesToolChoice = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Literal('required'),
  Type.Object({ type: Type.Literal('function'), name: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
  Type.Object({ type: Type.String({ pattern: '^(?!function$)' }) }, { additionalProperties: true }),
]);

export const ResponsesRequest = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 256 }),
    input: Type.Union([Type.String(), Type.Array(ResponsesInputItem)]),
    instructions: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    tools: Type.Optional(Type.Array(ResponsesTool)),
    tool_choice: Type.Optional(ResponsesToolChoice),
    parallel_tool_calls: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    max_output_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
    top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
    stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    store: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    previous_response_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    reasoning: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
    text: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
    user: Type.Optional(Type.String()),
    metadata: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  },
  { additionalProperties: true },
);

export type ResponsesContentPart = Static<typeof ResponsesContentPart>;
export type ResponsesMessageItem = Static<typeof ResponsesMessageItem>;
export type ResponsesFunctionCallItem = Static<typeof ResponsesFunctionCallItem>;
export type ResponsesFunctionCallOutputItem = Static<typeof ResponsesFunctionCallOutputItem>;
export type ResponsesInputItem = Static<typeof ResponsesInputItem>;
export type ResponsesFunctionTool = Static<typeof ResponsesFunctionTool>;
export type ResponsesTool = Static<typeof ResponsesTool>;
export type ResponsesToolChoice = Static<typeof ResponsesToolChoice>;
export type ResponsesRequest = Static<typeof ResponsesRequest>;
