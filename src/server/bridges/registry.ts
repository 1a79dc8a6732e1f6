import type { WireFormat } from '../../providers/types.js';
import type { Surface } from '../surface.js';
import { anthropicToOpenAIBridge } from './anthropic-to-openai.js';
import { openaiToAnthropicBridge } from './openai-to-anthropic.js';
import { createPassThroughBridge } from './pass-through.js';
import type { FormatBridge } from './types.js';

const bridges: readonly FormatBridge[] = [
  createPassThroughBridge('openai'),
  createPassThroughBridge('anthropic'),
  openaiToAnthropicBridge,
  anthropicToOpenAIBridge,
];

/** The bridge for a client surface and an upstream format, or undefined when the pair is not built. */
export function bridgeFor(surface: Surface, upstreamFormat: WireFormat): FormatBridge | undefined {
  return bridges.find((bridge) => bridge.surface === surface && bridge.upstreamFormat === upstreamFormat);
}
