import { GatewayError } from '../../errors/gateway-error.js';
import { declarationJsonSchema, functionCallIds } from '../../formats/gemini/function-schema.js';
import type { GeminiContent, GeminiGenerateContentRequest, GeminiPart } from '../../formats/gemini/generate-content-request.js';
import type { OpenAIChatRequest } from '../../formats/openai/chat-request.js';

type OpenAIMessage = OpenAIChatRequest['messages'][number];
type OpenAIUserPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface GeminiToOpenAIRequestOptions {
  /** The model id the upstream knows (the route resolved the URL's model to it). */
  upstreamModel: string;
  stream: boolean;
}

/**
 * Translates a (schema-validated) Gemini generateContent request into an OpenAI chat completion
 * request. Pure. `systemInstruction` becomes the first system message; `model` turns become
 * assistant messages whose functionCall parts are tool calls with stable ids (functionCallIds);
 * functionResponse parts become `tool` messages answering those ids; inline images become data
 * URLs. Thought parts are the model's own reasoning and are not replayed to another provider. A
 * part the gateway cannot carry (fileData, executable code) is a 400, never silently dropped.
 */
export function translateGeminiRequestToOpenAI(request: GeminiGenerateContentRequest, options: GeminiToOpenAIRequestOptions): OpenAIChatRequest {
  const messages: OpenAIMessage[] = [];
  const system = textOf(request.systemInstruction?.parts ?? [], 'systemInstruction');
  if (system !== '') messages.push({ role: 'system', content: system });
  const { ids, orphanResponses } = functionCallIds(request.contents);
  if (orphanResponses.length > 0) {
    throw new GatewayError('GW_INVALID_REQUEST', { message: `functionResponse '${orphanResponses[0]}' answers no earlier functionCall of that name.` });
  }
  request.contents.forEach((content, turnIndex) => messages.push(...translateContent(content, ids[turnIndex] ?? [])));

  const result: OpenAIChatRequest = { model: options.upstreamModel, messages };
  const config = request.generationConfig;
  if (config?.candidateCount !== undefined && config.candidateCount > 1) {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `candidateCount=${config.candidateCount} is not supported: the gateway returns one candidate.` });
  }
  if (config?.maxOutputTokens !== undefined) result.max_tokens = config.maxOutputTokens;
  if (config?.temperature !== undefined) result.temperature = config.temperature;
  if (config?.topP !== undefined) result.top_p = config.topP;
  if (config?.stopSequences !== undefined && config.stopSequences.length > 0) result.stop = [...config.stopSequences];
  const declarations = (request.tools ?? []).flatMap((tool) => tool.functionDeclarations ?? []);
  if (declarations.length > 0) {
    result.tools = declarations.map((declaration) => ({
      type: 'function' as const,
      function: { name: declaration.name, ...(declaration.description === undefined ? {} : { description: declaration.description }), parameters: declarationJsonSchema(declaration) },
    }));
    const choice = toolChoiceOf(request.toolConfig);
    if (choice !== undefined) result.tool_choice = choice;
  }
  if (options.stream) {
    result.stream = true;
    // The usage chunk is what the Gemini client's last usageMetadata is built from.
    result.stream_options = { include_usage: true };
  }
  return result;
}

function translateContent(content: GeminiContent, ids: readonly (string | undefined)[]): OpenAIMessage[] {
  if (content.role === 'model') {
    let text = '';
    const toolCalls: { id: string; type: 'function'; function: { name: string; arguments: string } }[] = [];
    content.parts.forEach((part, partIndex) => {
      if (part.thought === true) return;
      if (part.functionCall !== undefined) {
        toolCalls.push({ id: ids[partIndex] as string, type: 'function', function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) } });
      } else if (part.text !== undefined) text += part.text;
      else refusePart(part);
    });
    if (text === '' && toolCalls.length === 0) return [];
    return [{ role: 'assistant', content: text === '' ? null : text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) }];
  }
  const results: OpenAIMessage[] = [];
  const userParts: OpenAIUserPart[] = [];
  content.parts.forEach((part, partIndex) => {
    if (part.thought === true) return;
    if (part.functionResponse !== undefined) {
      results.push({ role: 'tool', tool_call_id: ids[partIndex] as string, content: JSON.stringify(part.functionResponse.response ?? {}) });
    } else if (part.text !== undefined) userParts.push({ type: 'text', text: part.text });
    else if (part.inlineData !== undefined) userParts.push({ type: 'image_url', image_url: { url: imageDataUrl(part.inlineData) } });
    else refusePart(part);
  });
  if (userParts.length === 0) return results;
  const onlyText = userParts.every((part) => part.type === 'text');
  const userContent = onlyText ? userParts.map((part) => (part as { text: string }).text).join('') : userParts;
  return [...results, { role: 'user', content: userContent }];
}

/** OpenAI takes images only; another inline type (audio, PDF) is refused rather than dropped. */
function imageDataUrl(inlineData: { mimeType: string; data: string }): string {
  if (!inlineData.mimeType.startsWith('image/')) {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `inlineData of type ${inlineData.mimeType} cannot be sent to an OpenAI-compatible upstream; only images can.` });
  }
  return `data:${inlineData.mimeType};base64,${inlineData.data}`;
}

function textOf(parts: readonly GeminiPart[], where: string): string {
  let text = '';
  for (const part of parts) {
    if (part.text === undefined) throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `${where} may hold text parts only.` });
    text += part.text;
  }
  return text;
}

function refusePart(part: GeminiPart): never {
  const kind = Object.keys(part).join(', ') || 'an empty part';
  throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `A Gemini part with ${kind} cannot be translated for this model's upstream.` });
}

/** toolConfig.functionCallingConfig: AUTO → auto, NONE → none, ANY → required (or the one allowed function). */
function toolChoiceOf(toolConfig: Record<string, unknown> | undefined): OpenAIChatRequest['tool_choice'] {
  const config = toolConfig?.['functionCallingConfig'] as { mode?: unknown; allowedFunctionNames?: unknown } | undefined;
  const mode = typeof config?.mode === 'string' ? config.mode.toUpperCase() : undefined;
  if (mode === 'NONE') return 'none';
  if (mode === 'AUTO') return 'auto';
  if (mode !== 'ANY') return undefined;
  const allowed = Array.isArray(config?.allowedFunctionNames) ? config.allowedFunctionNames : [];
  return allowed.length === 1 && typeof allowed[0] === 'string' ? { type: 'function', function: { name: allowed[0] } } : 'required';
}
