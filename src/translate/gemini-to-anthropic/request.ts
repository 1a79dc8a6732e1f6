import { GatewayError } from '../../errors/gateway-error.js';
import type { AnthropicContentBlock, AnthropicMessage, AnthropicMessagesRequest, AnthropicToolChoice } from '../../formats/anthropic/messages-request.js';
import { declarationJsonSchema, functionCallIds } from '../../formats/gemini/function-schema.js';
import type { GeminiContent, GeminiGenerateContentRequest, GeminiPart } from '../../formats/gemini/generate-content-request.js';

export interface GeminiToAnthropicRequestOptions {
  /** The model id the upstream knows (the route resolved the URL's model to it). */
  upstreamModel: string;
  /** Tokens. Anthropic requires max_tokens; Gemini clients often leave maxOutputTokens out. */
  defaultMaxTokens: number;
  stream: boolean;
}

/**
 * Translates a (schema-validated) Gemini generateContent request into an Anthropic Messages
 * request. Pure. `systemInstruction` becomes `system`; `model` turns become assistant messages whose
 * functionCall parts are tool_use blocks with stable ids (functionCallIds); functionResponse parts
 * become tool_result blocks; inline images become base64 image blocks. Thought parts (with their
 * signatures) are never replayed to another provider. A temperature above Anthropic's 0..1 is a 400,
 * not a clamp; a part the gateway cannot carry is a 400, not a drop.
 */
export function translateGeminiRequestToAnthropic(request: GeminiGenerateContentRequest, options: GeminiToAnthropicRequestOptions): AnthropicMessagesRequest {
  const { ids, orphanResponses } = functionCallIds(request.contents);
  if (orphanResponses.length > 0) {
    throw new GatewayError('GW_INVALID_REQUEST', { message: `functionResponse '${orphanResponses[0]}' answers no earlier functionCall of that name.` });
  }
  const messages: AnthropicMessage[] = [];
  request.contents.forEach((content, turnIndex) => {
    const message = translateContent(content, ids[turnIndex] ?? []);
    if (message !== undefined) messages.push(message);
  });
  if (messages.length === 0) throw new GatewayError('GW_INVALID_REQUEST', { message: 'contents must hold at least one part with content.' });

  const config = request.generationConfig;
  if (config?.candidateCount !== undefined && config.candidateCount > 1) {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `candidateCount=${config.candidateCount} is not supported: the gateway returns one candidate.` });
  }
  const result: AnthropicMessagesRequest = { model: options.upstreamModel, messages, max_tokens: config?.maxOutputTokens ?? options.defaultMaxTokens };
  const system = (request.systemInstruction?.parts ?? []).map((part) => {
    if (part.text === undefined) throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: 'systemInstruction may hold text parts only.' });
    return part.text;
  });
  if (system.join('') !== '') result.system = system.join('');
  if (config?.temperature !== undefined) {
    if (config.temperature > 1) {
      throw new GatewayError('GW_INVALID_REQUEST', { message: `temperature must be between 0 and 1 for this model (its upstream is Anthropic, whose range is 0..1); got ${config.temperature}.` });
    }
    result.temperature = config.temperature;
  }
  if (config?.topP !== undefined) result.top_p = config.topP;
  if (config?.topK !== undefined) result.top_k = Math.floor(config.topK);
  if (config?.stopSequences !== undefined && config.stopSequences.length > 0) result.stop_sequences = [...config.stopSequences];
  const declarations = (request.tools ?? []).flatMap((tool) => tool.functionDeclarations ?? []);
  if (declarations.length > 0) {
    result.tools = declarations.map((declaration) => ({
      name: declaration.name,
      ...(declaration.description === undefined ? {} : { description: declaration.description }),
      input_schema: declarationJsonSchema(declaration),
    }));
    const choice = toolChoiceOf(request.toolConfig);
    if (choice !== undefined) result.tool_choice = choice;
  }
  if (options.stream) result.stream = true;
  return result;
}

function translateContent(content: GeminiContent, ids: readonly (string | undefined)[]): AnthropicMessage | undefined {
  const blocks: AnthropicContentBlock[] = [];
  const isModel = content.role === 'model';
  content.parts.forEach((part, partIndex) => {
    if (part.thought === true) return;
    if (isModel && part.functionCall !== undefined) {
      blocks.push({ type: 'tool_use', id: ids[partIndex] as string, name: part.functionCall.name, input: part.functionCall.args ?? {} });
    } else if (!isModel && part.functionResponse !== undefined) {
      // Anthropic wants tool results first in their user turn.
      const result: AnthropicContentBlock = { type: 'tool_result', tool_use_id: ids[partIndex] as string, content: JSON.stringify(part.functionResponse.response ?? {}) };
      blocks.splice(blocks.filter((block) => block.type === 'tool_result').length, 0, result);
    } else if (part.text !== undefined) {
      if (part.text !== '') blocks.push({ type: 'text', text: part.text });
    } else if (!isModel && part.inlineData !== undefined) {
      if (!part.inlineData.mimeType.startsWith('image/')) {
        throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `inlineData of type ${part.inlineData.mimeType} cannot be sent to an Anthropic upstream by this gateway; only images can.` });
      }
      blocks.push({ type: 'image', source: { type: 'base64', media_type: part.inlineData.mimeType, data: part.inlineData.data } });
    } else refusePart(part);
  });
  if (blocks.length === 0) return undefined;
  return { role: isModel ? 'assistant' : 'user', content: blocks };
}

function refusePart(part: GeminiPart): never {
  const kind = Object.keys(part).join(', ') || 'an empty part';
  throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `A Gemini part with ${kind} cannot be translated for this model's upstream.` });
}

/** toolConfig.functionCallingConfig: AUTO → auto, NONE → none, ANY → any (or the one allowed tool). */
function toolChoiceOf(toolConfig: Record<string, unknown> | undefined): AnthropicToolChoice | undefined {
  const config = toolConfig?.['functionCallingConfig'] as { mode?: unknown; allowedFunctionNames?: unknown } | undefined;
  const mode = typeof config?.mode === 'string' ? config.mode.toUpperCase() : undefined;
  if (mode === 'NONE') return { type: 'none' };
  if (mode === 'AUTO') return { type: 'auto' };
  if (mode !== 'ANY') return undefined;
  const allowed = Array.isArray(config?.allowedFunctionNames) ? config.allowedFunctionNames : [];
  return allowed.length === 1 && typeof allowed[0] === 'string' ? { type: 'tool', name: allowed[0] } : { type: 'any' };
}
