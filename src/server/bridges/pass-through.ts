import type { Surface } from '../surface.js';
import type { FormatBridge, StreamTransformer } from './types.js';

const identityStream: StreamTransformer = {
  push: (piece) => piece,
  flush: () => '',
};

/**
 * Same format in and out. The client's bytes go upstream unchanged unless the model name must be
 * rewritten (an alias or a `provider/model` prefix): re-serialising a 100 KB body costs about a
 * millisecond, so it happens only when the upstream would otherwise see a name it does not know.
 */
export function createPassThroughBridge(surface: Surface): FormatBridge {
  return {
    surface,
    upstreamFormat: surface,
    upstreamBody(context, raw) {
      if (context.upstreamModel === context.requestedModel) return raw;
      return JSON.stringify({ ...context.clientBody, model: context.upstreamModel });
    },
    jsonResponse: (upstreamBody) => upstreamBody,
    streamTransformer: () => identityStream,
  };
}
