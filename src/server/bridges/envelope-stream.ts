import type { UpstreamEnvelope } from '../../providers/types.js';
import { StreamTransformFailure, type StreamTransformer } from './types.js';

/**
 * A bridge's stream transformer behind an upstream envelope's unwrapper (Gemini's Code Assist sends
 * each stream event as `{"response": <chunk>}`): upstream bytes are taken out of the envelope first,
 * so the bridge sees the plain wire format. A failure of the unwrapper (an event that is not the
 * envelope) is a failure of the stream, reported after what the bridge still holds.
 */
export function unwrappedStream(envelope: UpstreamEnvelope, inner: StreamTransformer): StreamTransformer {
  const unwrapper = envelope.createStreamUnwrapper();
  const unwrap = (read: () => Buffer): Buffer => {
    try {
      return read();
    } catch (error) {
      throw new StreamTransformFailure(String(inner.abort()), error);
    }
  };
  const transformer: StreamTransformer = {
    push: (piece) => {
      const plain = unwrap(() => unwrapper.push(piece));
      return plain.length === 0 ? '' : inner.push(plain);
    },
    flush: () => {
      const plain = unwrap(() => unwrapper.flush());
      const text = plain.length === 0 ? '' : inner.push(plain);
      const tail = inner.flush();
      return text.length === 0 ? tail : typeof text === 'string' && typeof tail === 'string' ? text + tail : Buffer.concat([Buffer.from(text), Buffer.from(tail)]);
    },
    abort: () => inner.abort(),
  };
  if (inner.errorEvent !== undefined) transformer.errorEvent = inner.errorEvent.bind(inner);
  if (inner.contentType !== undefined) return { ...transformer, contentType: inner.contentType };
  return transformer;
}
