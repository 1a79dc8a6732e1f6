import type { GatewayError } from '../errors/gateway-error.js';
import type { ReadonlyProviderConfig } from '../config/schema.js';
import type { WireFormat } from '../formats/wire-format.js';

/** The operations a client route can ask an upstream for. */
export type UpstreamOperation = 'chat' | 'count_tokens';

interface CredentialBase {
  /** Stable id, unique within the provider: `<provider>-key-<n>` for config keys, the file id for stored ones. */
  id: string;
  /** The provider name (the map key under `providers:`). */
  provider: string;
  /** Lower number = tried first. Equal priorities share load round-robin. */
  priority: number;
}

/** An upstream API key from config. */
export interface ApiKeyCredential extends CredentialBase {
  kind: 'api_key';
  apiKey: string;
  /** Models this key must not be used for (`excluded_models` of a config key); absent = none. */
  excludedModels?: { matches(model: string): boolean };
}

/**
 * An OAuth access token (Claude Code login, Codex, Gemini). The credential-security issue adds the
 * refresh; the adapter only needs the current access token.
 */
export interface OAuthCredential extends CredentialBase {
  kind: 'oauth';
  accessToken: string;
  /** Epoch milliseconds; undefined when the token does not say. */
  expiresAt: number | undefined;
}

export type UpstreamCredential = ApiKeyCredential | OAuthCredential;

export interface BuildRequestInput {
  operation: UpstreamOperation;
  credential: UpstreamCredential;
  /** The provider's base_url, parsed once at config load. */
  baseUrl: URL;
  /** The model name sent upstream (Gemini puts it in the URL; the others ignore it, it is in their body). */
  model: string;
  stream: boolean;
  /** Client headers the adapter may forward (only ones it allow-lists, e.g. `anthropic-beta`). */
  clientHeaders: Readonly<Record<string, string | string[] | undefined>>;
  /** Extra headers decided by the gateway (e.g. X-Device-Fingerprint). */
  extraHeaders?: Readonly<Record<string, string>>;
}

export interface UpstreamRequestTarget {
  url: string;
  headers: Record<string, string>;
}

export interface MapErrorInput {
  provider: string;
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The upstream body, at most a few KiB, not yet redacted. */
  bodyText: string;
}

/**
 * One upstream type. Pure: builds URLs and headers and maps failures; it never performs I/O,
 * so it can be tested without a network.
 */
export interface ProviderAdapter {
  readonly type: string;
  /** The one wire format this upstream speaks. */
  readonly format: WireFormat;
  /** Whether the upstream can count tokens itself (Anthropic can; OpenAI-compatible servers cannot). */
  readonly supportsCountTokens: boolean;
  buildRequest(input: BuildRequestInput): UpstreamRequestTarget;
  /** Maps an upstream non-2xx answer to a gateway error with `retryable` computed from the status. */
  mapError(input: MapErrorInput): GatewayError;
  /**
   * The envelope this upstream wraps its wire format in, for one request (Gemini's Code Assist
   * endpoint: `{model, project, request}` in, `{response}` out); absent or undefined = none.
   */
  envelopeFor?(input: EnvelopeInput): UpstreamEnvelope | undefined;
}

export interface EnvelopeInput {
  baseUrl: URL;
  /** The model name sent upstream. */
  model: string;
  /** The provider's config (Code Assist reads its `project`). */
  provider: ReadonlyProviderConfig;
}

/**
 * Wraps a request body in an upstream's envelope and takes its answers out of it, so bridges and
 * translators keep seeing the plain wire format. Pure.
 */
export interface UpstreamEnvelope {
  /** The body to send: the bridge's body inside the envelope (by concatenation: never re-serialised). */
  wrapRequest(body: string | Buffer): string | Buffer;
  /** A whole JSON answer taken out of the envelope; GW_UPSTREAM_BAD_RESPONSE when it has none. */
  unwrapAnswer(body: Buffer): Buffer;
  /** A stream's bytes, each event taken out of the envelope, as SSE bytes for the bridge. */
  createStreamUnwrapper(): { push(piece: Buffer): Buffer; flush(): Buffer };
}
