import type { AnthropicMessagesRequest, AnthropicTool, AnthropicToolChoice } from '../../formats/anthropic/messages-request.js';
import type { OpenAIChatRequest, OpenAITool } from '../../formats/openai/chat-request.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { boundedIdentifier, boundedStopSequences, toolNameMaxLength, userIdMaxLength } from '../../formats/client-strings.js';
import { translateMessages } from './request-messages.js';

export interface OpenAIToAnthropicRequestOptions {
  /** The model id the upstream knows (the route resolved the client's alias to it). */
  upstreamModel: string;
  /** Tokens. Anthropic requires max_tokens; OpenAI clients often leave it out. */
  defaultMaxTokens: number;
}

/**
 * Translates a (schema-validated) OpenAI Chat Completions request into an Anthropic Messages
 * request. Pure: no I/O, no clock.
 *
 * Nothing is silently changed in meaning: a value Anthropic cannot take (temperature above 1,
 * n > 1, logprobs, structured-output response formats) is a 400 that says why, never a clamp or
 * a drop. Sampling knobs with no Anthropic counterpart that only tune style (presence_penalty,
 * frequency_penalty, seed, logit_bias) are ignored, as are unknown top-level fields.
 */
export function translateOpenAIRequestToAnthropic(
  request: OpenAIChatRequest,
  options: OpenAIToAnthropicRequestOptions,
): AnthropicMessagesRequest {
  rejectUntranslatableOptions(request);
  const { system, messages } = translateMessages(request.messages);
  if (messages.length === 0) {
    throw new GatewayError('GW_INVALID_REQUEST', {
      message: 'messages must include at least one user, assistant or tool message with content; Anthropic does not accept a system prompt alone.',
    });
  }

  const translated: AnthropicMessagesRequest = {
    model: options.upstreamModel,
    messages,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? options.defaultMaxTokens,
  };
  if (system.length > 0) translated.system = system;
  if (request.stream === true) translated.stream = true;

  if (request.stop !== undefined && request.stop !== null) {
    translated.stop_sequences = boundedStopSequences(typeof request.stop === 'string' ? [request.stop] : request.stop, 'stop');
  }
  if (request.temperature !== undefined && request.temperature !== null) {
    translated.temperature = checkedUnitRange(request.temperature, 'temperature');
  }
  if (request.top_p !== undefined && request.top_p !== null) translated.top_p = checkedUnitRange(request.top_p, 'top_p');

  if (request.tools !== undefined && request.tools.length > 0) {
    translated.tools = request.tools.map(translateTool);
    const toolChoice = translateToolChoice(request);
    if (toolChoice !== undefined) translated.tool_choice = toolChoice;
  } else if (request.tool_choice !== undefined && request.tool_choice !== 'none' && request.tool_choice !== 'auto') {
    throw new GatewayError('GW_INVALID_REQUEST', { message: 'tool_choice requires at least one tool in tools.' });
  }

  // Anthropic asks for an opaque id here (a hash or uuid), which is what OpenAI's `user` is for too;
  // bounded like the other direction (anthropic-to-openai's openAIUserFor), never cut.
  if (request.user !== undefined && request.user !== '') translated.metadata = { user_id: boundedIdentifier(request.user, 'user', userIdMaxLength) };
  return translated;
}

/**
 * OpenAI allows temperature 0..2, Anthropic 0..1. Scaling or clamping would silently change the
 * sampling the client asked for, so values outside Anthropic's range are refused.
 */
function checkedUnitRange(value: number, field: 'temperature' | 'top_p'): number {
  if (!(value >= 0 && value <= 1)) {
    throw new GatewayError('GW_INVALID_REQUEST', {
      message: `${field} must be between 0 and 1 for this model (its upstream is Anthropic, whose range is 0..1); got ${value}.`,
    });
  }
  return value;
}

function rejectUntranslatableOptions(request: OpenAIChatRequest): void {
  const extra: Record<string, unknown> = request;
  if (request.n !== undefined && request.n !== null && request.n > 1) {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', {
      message: `n=${request.n} is not supported: Anthropic returns exactly one choice per request.`,
    });
  }
  if (extra['logprobs'] === true || (typeof extra['top_logprobs'] === 'number' && extra['top_logprobs'] > 0)) {
    throw new GatewayError('GW_UNSUPPORTED_CONTENT', { message: 'logprobs are not supported: Anthropic does not return token log probabilities.' });
  }
  const responseFormat = extra['response_format'];
  if (typeof responseFormat === 'object' && responseFormat !== null) {
    const type = (responseFormat as Record<string, unknown>)['type'];
    if (type !== undefined && type !== 'text') {
      const shown = typeof type === 'string' ? type.slice(0, 64) : typeof type;
      throw new GatewayError('GW_UNSUPPORTED_CONTENT', {
        message: `response_format type '${shown}' is not supported when the upstream is Anthropic (it cannot guarantee the format).`,
      });
    }
  }
}

/** A tool without `parameters` takes no arguments; Anthropic still needs an object schema. */
function translateTool(tool: OpenAITool): AnthropicTool {
  const translated: AnthropicTool = {
    name: tool.function.name,
    input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
  };
  if (tool.function.description !== undefined) translated.description = tool.function.description;
  return translated;
}

/**
 * 'required' is Anthropic's 'any'. `parallel_tool_calls: false` becomes
 * `disable_parallel_tool_use: true`, which Anthropic accepts on every choice except 'none'; with
 * no explicit choice it rides on 'auto' (OpenAI's default when tools are given).
 */
function translateToolChoice(request: OpenAIChatRequest): AnthropicToolChoice | undefined {
  const disableParallel = request.parallel_tool_calls === false;
  const choice = request.tool_choice;
  if (choice === 'none') return { type: 'none' };
  if (choice === undefined) return disableParallel ? { type: 'auto', disable_parallel_tool_use: true } : undefined;
  const base: AnthropicToolChoice =
    choice === 'auto'
      ? { type: 'auto' }
      : choice === 'required'
        ? { type: 'any' }
        : { type: 'tool', name: boundedIdentifier(choice.function.name, 'tool_choice.function.name', toolNameMaxLength) };
  if (disableParallel) base.disable_parallel_tool_use = true;
  return base;
}
