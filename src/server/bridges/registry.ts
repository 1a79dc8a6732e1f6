import type { WireFormat } from '../../formats/wire-format.js';
import { anthropicToGeminiBridge } from './anthropic-to-gemini.js';
import { anthropicToOpenAIBridge } from './anthropic-to-openai.js';
import { geminiToAnthropicBridge } from './gemini-to-anthropic.js';
import { geminiPassThroughBridge } from './gemini-pass-through.js';
import { geminiToOpenAIBridge } from './gemini-to-openai.js';
import { openaiToAnthropicBridge } from './openai-to-anthropic.js';
import { openaiToGeminiBridge } from './openai-to-gemini.js';
import { composeBridges } from './composed-bridge.js';
import { openaiToCodexBridge } from './openai-to-codex.js';
import { createPassThroughBridge } from './pass-through.js';
import { responsesPassThroughBridge } from './responses-pass-through.js';
import { responsesToAnthropicBridge } from './responses-to-anthropic.js';
import { responsesToOpenAIBridge } from './responses-to-openai.js';
import type { FormatBridge } from './types.js';

const bridges: readonly FormatBridge[] = [
  createPassThroughBridge('openai-chat'),
  createPassThroughBridge('anthropic-messages'),
  openaiToAnthropicBridge,
  anthropicToOpenAIBridge,
  geminiToOpenAIBridge,
  geminiToAnthropicBridge,
  responsesToOpenAIBridge,
  responsesToAnthropicBridge,
  geminiPassThroughBridge,
  openaiToGeminiBridge,
  anthropicToGeminiBridge,
  // A Responses upstream (provider type `codex`): Responses clients pass through, chat clients are
  // translated, Anthropic and Gemini clients through chat (composed-bridge.ts).
  responsesPassThroughBridge,
  openaiToCodexBridge,
  composeBridges(anthropicToOpenAIBridge, openaiToCodexBridge),
  composeBridges(geminiToOpenAIBridge, openaiToCodexBridge),
  // A Responses client of a Gemini upstream, through chat.
  composeBridges(responsesToOpenAIBridge, openaiToGeminiBridge),
];

/** The bridge for a client format and an upstream format, or undefined when the pair is not built. */
export function bridgeFor(clientFormat: WireFormat, upstreamFormat: WireFormat): FormatBridge | undefined {
  return bridges.find((bridge) => bridge.clientFormat === clientFormat && bridge.upstreamFormat === upstreamFormat);
}
