import { GatewayError } from '../../errors/gateway-error.js';
import type { GeminiContent, GeminiGenerateContentRequest, GeminiPart } from '../../formats/gemini/generate-content-request.js';
import { jsonSchemaToGeminiSchema } from '../../formats/gemini/json-schema-to-gemini.js';
import { appendTurn, functionDeclaration, functionResponseBody, inlineDataFromDataUrl } from '../../formats/gemini/request-builder.js';
import { signatureFromCallId, unknownThoughtSignature } from '../../formats/gemini/upstream-answer.js';
import type { OpenAIChatRequest, OpenAIContentPart, OpenAIMessage } from '../../formats/openai/chat-request.js';

/** `reasoning_effort` → Gemini thinking budget in tokens (Gemini 2.5's own low/medium/high points). */
const thinkingBudgetByEffort: Readonly<Record<string, number>> = { minimal: 0, low: 1024, medium: 8192, high: 24576 };

/**
 * Translates a (schema-validated) OpenAI chat request into a Gemini generateContent request. Pure.
 * The model goes in the URL (the adapter), not the body. System and developer messages become
 * `systemInstruction` (Gemini has one, so several are joined in order); assistant turns become
 * `model` turns, their tool calls functionCall parts (with the thoughtSignature their id carries,
 * or Google's stand-in for a call that never came from Gemini); tool messages become
 * functionResponse parts named after the call they answer. Images must be data URLs (Gemini cannot
 * fetch an http URL); content the gateway cannot carry is a 400, never dropped.
 */
export function translateOpenAIRequestToGemini(request: OpenAIChatRequest): GeminiGenerateContentRequest {
  const contents: GeminiContent[] = [];
  const system: string[] = [];
  const callNames = new Map<string, string>();
  for (const message of request.messages) translateMessage(message, contents, system, callNames);
  if (contents.length === 0) throw new GatewayError('GW_INVALID_REQUEST', { message: 'messages must hold at least one user or assistant message with content.' });

  const result: GeminiGenerateContentRequest = { contents };
  if (system.length > 0) result.systemInstruction = { parts: [{ text: system.join('\n\n') }] };
  if (request.n !== undefined && request.n !== null && request.n > 1) {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `n=${request.n} is not supported: the gateway returns one choice.` });
  }
  const config: NonNullable<GeminiGenerateContentRequest['generationConfig']> = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) config.maxOutputTokens = maxTokens;
  if (request.temperature !== undefined && request.temperature !== null) config.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) config.topP = request.top_p;
  if (typeof request.stop === 'string') config.stopSequences = [request.stop];
  else if (Array.isArray(request.stop) && request.stop.length > 0) config.stopSequences = [...request.stop];
  // Fields the schema leaves untyped (allowed as unknown top-level fields), read as unknown.
  const extra = request as Readonly<Record<string, unknown>>;
  applyResponseFormat(extra['response_format'], config);
  const effort = extra['reasoning_effort'];
  if (typeof effort === 'string' && thinkingBudgetByEffort[effort] !== undefined) {
    config.thinkingConfig = { thinkingBudget: thinkingBudgetByEffort[effort], includeThoughts: effort !== 'minimal' };
  }
  if (Object.keys(config).length > 0) result.generationConfig = config;
  if (request.tools !== undefined && request.tools.length > 0) {
    result.tools = [{ functionDeclarations: request.tools.map((tool) => functionDeclaration(tool.function.name, tool.function.description, tool.function.parameters)) }];
    const choice = request.tool_choice;
    if (choice === 'none') result.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
    else if (choice === 'required') result.toolConfig = { functionCallingConfig: { mode: 'ANY' } };
    else if (typeof choice === 'object') result.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
    else if (choice === 'auto') result.toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
  }
  return result;
}

function translateMessage(message: OpenAIMessage, contents: GeminiContent[], system: string[], callNames: Map<string, string>): void {
  switch (message.role) {
    case 'system':
    case 'developer': {
      const text = textOf(message.content, 'a system message');
      if (text !== '') system.push(text);
      return;
    }
    case 'user':
      appendTurn(contents, 'user', userParts(message.content));
      return;
    case 'assistant': {
      const parts: GeminiPart[] = [];
      const text = textOf(message.content ?? null, 'an assistant message');
      if (text !== '') parts.push({ text });
      let signed = false;
      for (const call of message.tool_calls ?? []) {
        callNames.set(call.id, call.function.name);
        // Gemini 3 wants the signature on the first call of a turn; later parallel calls carry none.
        const signature = signatureFromCallId(call.id) ?? (signed ? undefined : unknownThoughtSignature);
        signed = true;
        parts.push({ functionCall: { name: call.function.name, args: argumentsObject(call.function.arguments, call.function.name) }, ...(signature === undefined ? {} : { thoughtSignature: signature }) });
      }
      appendTurn(contents, 'model', parts);
      return;
    }
    case 'tool': {
      const name = callNames.get(message.tool_call_id);
      if (name === undefined) {
        throw new GatewayError('GW_INVALID_REQUEST', { message: `The tool message for '${message.tool_call_id}' answers no earlier tool call with that id.` });
      }
      appendTurn(contents, 'user', [{ functionResponse: { name, response: functionResponseBody(textOf(message.content, 'a tool message'), false) } }]);
      return;
    }
  }
}

function userParts(content: OpenAIMessage['content']): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (content === null || content === undefined) return [];
  return content.map((part) => userPart(part));
}

function userPart(part: OpenAIContentPart): GeminiPart {
  if (part.type === 'text' && typeof (part as { text?: unknown }).text === 'string') return { text: (part as { text: string }).text };
  if (part.type === 'image_url') {
    const url = (part as { image_url?: { url?: unknown } }).image_url?.url;
    const inlineData = typeof url === 'string' ? inlineDataFromDataUrl(url) : undefined;
    if (inlineData === undefined) {
      throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: 'An image for a Gemini upstream must be a data: URL (base64); Gemini does not fetch http URLs.' });
    }
    return { inlineData };
  }
  throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `A content part of type '${part.type}' cannot be translated for a Gemini upstream.` });
}

/** The text of a message's content; non-text parts are refused where only text can go. */
function textOf(content: OpenAIMessage['content'] | null, where: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  return content
    .map((part) => {
      if (part.type !== 'text' || typeof (part as { text?: unknown }).text !== 'string') {
        throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `${where} may hold text parts only for a Gemini upstream.` });
      }
      return (part as { text: string }).text;
    })
    .join('');
}

/** A tool call's arguments (JSON text) as the object Gemini wants; text that is not an object is a 400. */
function argumentsObject(text: string, name: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // refused below
  }
  throw new GatewayError('GW_INVALID_REQUEST', { message: `The arguments of tool call '${name}' are not a JSON object.` });
}

/** `response_format`: json_object → JSON output; json_schema → JSON output following the (cleaned) schema. */
function applyResponseFormat(format: unknown, config: NonNullable<GeminiGenerateContentRequest['generationConfig']>): void {
  if (typeof format !== 'object' || format === null) return;
  const { type } = format as { type?: unknown };
  if (type === 'json_object') config.responseMimeType = 'application/json';
  if (type === 'json_schema') {
    config.responseMimeType = 'application/json';
    const schema = (format as { json_schema?: { schema?: unknown } }).json_schema?.schema;
    if (schema !== undefined) config.responseSchema = jsonSchemaToGeminiSchema(schema);
  }
}
