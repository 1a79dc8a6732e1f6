import { GatewayError } from '../../errors/gateway-error.js';
import type { AnthropicContentBlock, AnthropicMessagesRequest } from '../../formats/anthropic/messages-request.js';
import type { GeminiContent, GeminiGenerateContentRequest, GeminiPart } from '../../formats/gemini/generate-content-request.js';
import { appendTurn, functionDeclaration, functionResponseBody } from '../../formats/gemini/request-builder.js';
import { signatureFromCallId, unknownThoughtSignature } from '../../formats/gemini/upstream-answer.js';

/**
 * Translates a (schema-validated) Anthropic Messages request into a Gemini generateContent request.
 * Pure. The model goes in the URL (the adapter). `system`, and the system messages Claude Code puts
 * inside `messages`, become `systemInstruction` (Gemini has one; texts joined in order); assistant
 * turns become `model` turns, tool_use blocks functionCall parts (with the thoughtSignature their id
 * carries, or Google's stand-in for a call that never came from Gemini); tool_result blocks become
 * functionResponse parts named after the tool_use they answer. Thinking blocks and their signatures
 * are Anthropic's and are never sent to Gemini; `thinking` asks Gemini to think (and show it).
 * Blocks the gateway cannot carry (documents, server tools, image URLs) are a 400, never dropped.
 */
export function translateAnthropicRequestToGemini(request: AnthropicMessagesRequest): GeminiGenerateContentRequest {
  const contents: GeminiContent[] = [];
  const system: string[] = [];
  if (typeof request.system === 'string') system.push(request.system);
  else if (request.system !== undefined) system.push(...request.system.map((block) => block.text));
  const callNames = new Map<string, string>();
  for (const message of request.messages) {
    const blocks: AnthropicContentBlock[] = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    if (message.role === 'system') system.push(blocks.map((block) => textOfBlock(block, 'a system message')).join(''));
    else if (message.role === 'assistant') appendTurn(contents, 'model', modelParts(blocks, callNames));
    else appendTurn(contents, 'user', userParts(blocks, callNames));
  }
  if (contents.length === 0) throw new GatewayError('GW_INVALID_REQUEST', { message: 'messages must hold at least one message with content.' });

  const result: GeminiGenerateContentRequest = { contents };
  const systemText = system.filter((text) => text !== '').join('\n\n');
  if (systemText !== '') result.systemInstruction = { parts: [{ text: systemText }] };
  const config: NonNullable<GeminiGenerateContentRequest['generationConfig']> = { maxOutputTokens: request.max_tokens };
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.top_p !== undefined) config.topP = request.top_p;
  if (request.top_k !== undefined) config.topK = request.top_k;
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0) config.stopSequences = [...request.stop_sequences];
  const thinking = (request as Readonly<Record<string, unknown>>)['thinking'] as { type?: unknown; budget_tokens?: unknown } | undefined;
  if (thinking?.type === 'enabled' && typeof thinking.budget_tokens === 'number') config.thinkingConfig = { thinkingBudget: thinking.budget_tokens, includeThoughts: true };
  else if (thinking?.type === 'adaptive') config.thinkingConfig = { thinkingBudget: -1, includeThoughts: true }; // -1: Gemini's dynamic budget
  result.generationConfig = config;
  if (request.tools !== undefined && request.tools.length > 0) {
    result.tools = [
      {
        functionDeclarations: request.tools.map((tool) => {
          if (tool.type !== undefined && tool.type !== 'custom') {
            throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `The server tool '${tool.name}' (${tool.type}) runs at Anthropic and cannot be offered to a Gemini upstream.` });
          }
          return functionDeclaration(tool.name, tool.description, tool.input_schema);
        }),
      },
    ];
    const choice = request.tool_choice;
    if (choice?.type === 'none') result.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
    else if (choice?.type === 'any') result.toolConfig = { functionCallingConfig: { mode: 'ANY' } };
    else if (choice?.type === 'tool') result.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
    else if (choice?.type === 'auto') result.toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
  }
  return result;
}

function modelParts(blocks: readonly AnthropicContentBlock[], callNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  let signed = false;
  for (const block of blocks) {
    if (block.type === 'thinking' || block.type === 'redacted_thinking') continue; // never replayed to another provider
    if (block.type === 'text') {
      if ((block as { text: string }).text !== '') parts.push({ text: (block as { text: string }).text });
    } else if (block.type === 'tool_use') {
      const { id, name, input } = block as { id: string; name: string; input: unknown };
      callNames.set(id, name);
      // Gemini 3 wants the signature on the first call of a turn; later parallel calls carry none.
      const signature = signatureFromCallId(id) ?? (signed ? undefined : unknownThoughtSignature);
      signed = true;
      const args = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
      parts.push({ functionCall: { name, args }, ...(signature === undefined ? {} : { thoughtSignature: signature }) });
    } else refuse(block, 'an assistant message');
  }
  return parts;
}

function userParts(blocks: readonly AnthropicContentBlock[], callNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  for (const block of blocks) {
    if (block.type === 'text') {
      if ((block as { text: string }).text !== '') parts.push({ text: (block as { text: string }).text });
    } else if (block.type === 'image') parts.push(imagePart(block));
    else if (block.type === 'tool_result') {
      const { tool_use_id: id, content, is_error: isError } = block as { tool_use_id: string; content?: string | AnthropicContentBlock[]; is_error?: boolean };
      const name = callNames.get(id);
      if (name === undefined) throw new GatewayError('GW_INVALID_REQUEST', { message: `The tool_result for '${id}' answers no earlier tool_use with that id.` });
      const inner = typeof content === 'string' ? [{ type: 'text', text: content } as AnthropicContentBlock] : (content ?? []);
      const text = inner.filter((item) => item.type === 'text').map((item) => (item as { text: string }).text).join('\n');
      parts.push({ functionResponse: { name, response: functionResponseBody(text, isError === true) } });
      // Images a tool returned (a screenshot) follow as parts of the same user turn.
      for (const item of inner) if (item.type === 'image') parts.push(imagePart(item));
    } else refuse(block, 'a user message');
  }
  return parts;
}

function imagePart(block: AnthropicContentBlock): GeminiPart {
  const source = (block as { source?: { type?: unknown; media_type?: unknown; data?: unknown } }).source;
  if (source?.type !== 'base64' || typeof source.media_type !== 'string' || typeof source.data !== 'string') {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: 'An image for a Gemini upstream must be base64 data; Gemini does not fetch image URLs.' });
  }
  return { inlineData: { mimeType: source.media_type, data: source.data } };
}

function textOfBlock(block: AnthropicContentBlock, where: string): string {
  if (block.type !== 'text') refuse(block, where);
  return (block as { text: string }).text;
}

function refuse(block: AnthropicContentBlock, where: string): never {
  throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: `A '${block.type}' block in ${where} cannot be translated for a Gemini upstream.` });
}
