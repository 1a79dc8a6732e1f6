/**
 * The error catalog. Every error the gateway returns to a client carries one of these codes.
 * Codes are stable and never reused: retire a code by leaving it here with `retired: true`.
 * `docs/errors.md` lists every code; `src/errors/codes.test.ts` checks the two agree both ways.
 *
 * `kind` decides the error's shape on each surface:
 * - openai: `{"error":{"message","type","code"}}` with `type` = openaiType
 * - anthropic: `{"type":"error","error":{"type","message"}}` with `type` = anthropicType
 * - gemini: `{"error":{"code","message","status"}}` with `status` = geminiStatus
 */
export interface ErrorCatalogEntry {
  status: number;
  message: string;
  kind: ErrorKind;
}

export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limit'
  | 'upstream'
  | 'timeout'
  | 'overloaded'
  | 'internal';

export const errorCatalog = {
  GW_INVALID_JSON: { status: 400, kind: 'invalid_request', message: 'The request body is not valid JSON.' },
  GW_INVALID_REQUEST: { status: 400, kind: 'invalid_request', message: 'The request body does not match the API schema.' },
  GW_MAX_TOKENS_EXCEEDED: { status: 400, kind: 'invalid_request', message: 'max_tokens is above the limit this gateway allows.' },
  GW_UNSUPPORTED_CONTENT: { status: 400, kind: 'invalid_request', message: 'The request uses content this route cannot translate.' },
  GW_UNAUTHORIZED: { status: 401, kind: 'authentication', message: 'Missing or invalid API key.' },
  GW_KEY_EXPIRED: { status: 401, kind: 'authentication', message: 'This API key has expired.' },
  GW_KEY_DISABLED: { status: 401, kind: 'authentication', message: 'This API key is disabled.' },
  GW_MODEL_NOT_ALLOWED: { status: 403, kind: 'permission', message: 'This API key may not use the requested model or provider.' },
  GW_IP_BLOCKED: { status: 403, kind: 'permission', message: 'Requests from this address are blocked.' },
  GW_IP_NOT_ALLOWED: { status: 403, kind: 'permission', message: 'This address is not on the gateway\'s allowlist.' },
  GW_CLIENT_CERTIFICATE_REQUIRED: { status: 403, kind: 'permission', message: 'This endpoint requires a TLS client certificate from the management CA.' },
  GW_NOT_FOUND: { status: 404, kind: 'not_found', message: 'No such route.' },
  GW_MODEL_NOT_FOUND: { status: 404, kind: 'not_found', message: 'The requested model is not served by this gateway.' },
  GW_BODY_TOO_LARGE: { status: 413, kind: 'payload_too_large', message: 'The request body is larger than the configured limit.' },
  GW_REQUEST_TIMEOUT: { status: 408, kind: 'timeout', message: 'The request head or body did not arrive in time.' },
  GW_HEADERS_TOO_LARGE: { status: 431, kind: 'invalid_request', message: 'The request headers are larger than the configured limit.' },
  GW_UNSUPPORTED_MEDIA_TYPE: { status: 415, kind: 'unsupported_media_type', message: 'Content-Type must be application/json.' },
  GW_RATE_LIMITED: { status: 429, kind: 'rate_limit', message: 'Rate limit exceeded; retry after the time in Retry-After.' },
  GW_KEY_BUDGET_EXCEEDED: { status: 429, kind: 'rate_limit', message: 'This API key has used its token budget for the day or month; retry after the time in Retry-After.' },
  GW_NO_CREDENTIAL_AVAILABLE: { status: 503, kind: 'overloaded', message: 'Every credential of the provider is cooling down; retry later.' },
  GW_UPSTREAM_BAD_REQUEST: { status: 400, kind: 'invalid_request', message: 'The upstream provider rejected the request.' },
  GW_UPSTREAM_AUTH_FAILED: { status: 502, kind: 'upstream', message: 'The upstream provider rejected the gateway credential.' },
  GW_UPSTREAM_RATE_LIMITED: { status: 429, kind: 'rate_limit', message: 'The upstream provider is rate limiting; retry later.' },
  GW_UPSTREAM_ERROR: { status: 502, kind: 'upstream', message: 'The upstream provider returned an error.' },
  GW_UPSTREAM_UNREACHABLE: { status: 502, kind: 'upstream', message: 'The upstream provider could not be reached.' },
  GW_UPSTREAM_TIMEOUT: { status: 504, kind: 'timeout', message: 'The upstream provider did not answer in time.' },
  GW_UPSTREAM_OVERLOADED: { status: 529, kind: 'overloaded', message: 'The upstream provider is overloaded.' },
  GW_UPSTREAM_STREAM_FAILED: { status: 502, kind: 'upstream', message: 'The upstream stream failed part-way.' },
  GW_UPSTREAM_BAD_RESPONSE: { status: 502, kind: 'upstream', message: 'The upstream provider sent a response the gateway cannot read.' },
  GW_EGRESS_REFUSED: { status: 502, kind: 'upstream', message: 'The upstream address is not a public internet address; the egress guard refused the connection.' },
  GW_MANAGEMENT_REMOTE_REFUSED: { status: 403, kind: 'permission', message: 'The management API answers loopback clients only (management.allow_remote is off).' },
  GW_MANAGEMENT_FORBIDDEN: { status: 403, kind: 'permission', message: 'This management key\'s role does not allow this action.' },
  GW_MANAGEMENT_LOCKED_OUT: { status: 429, kind: 'rate_limit', message: 'Too many failed management logins from this address; retry after the time in Retry-After.' },
  GW_MANAGEMENT_CONFLICT: { status: 409, kind: 'invalid_request', message: 'The management action conflicts with the current state.' },
  GW_TOTP_REQUIRED: { status: 401, kind: 'authentication', message: 'This action needs a TOTP code in the X-Management-TOTP header.' },
  GW_TOTP_INVALID: { status: 401, kind: 'authentication', message: 'The TOTP code is wrong, outside the time window, or already used.' },
  GW_PROVIDER_DISABLED: { status: 503, kind: 'overloaded', message: 'The provider serving this model is disabled by an operator.' },
  GW_SHUTTING_DOWN: { status: 503, kind: 'overloaded', message: 'The gateway is shutting down.' },
  GW_INTERNAL: { status: 500, kind: 'internal', message: 'Internal gateway error.' },
} as const satisfies Record<string, ErrorCatalogEntry>;

export type ErrorCode = keyof typeof errorCatalog;

/** OpenAI `error.type` per kind (openai-node maps these back to its error classes by status). */
export const openaiTypeByKind: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  payload_too_large: 'invalid_request_error',
  unsupported_media_type: 'invalid_request_error',
  rate_limit: 'rate_limit_error',
  upstream: 'api_error',
  timeout: 'timeout_error',
  overloaded: 'server_error',
  internal: 'server_error',
};

/** Anthropic `error.type` per kind, from Anthropic's documented error types. */
export const anthropicTypeByKind: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  payload_too_large: 'request_too_large',
  unsupported_media_type: 'invalid_request_error',
  rate_limit: 'rate_limit_error',
  upstream: 'api_error',
  timeout: 'timeout_error',
  overloaded: 'overloaded_error',
  internal: 'api_error',
};

/** Gemini `error.status` (google.rpc.Code names) per kind. */
export const geminiStatusByKind: Record<ErrorKind, string> = {
  invalid_request: 'INVALID_ARGUMENT',
  authentication: 'UNAUTHENTICATED',
  permission: 'PERMISSION_DENIED',
  not_found: 'NOT_FOUND',
  payload_too_large: 'INVALID_ARGUMENT',
  unsupported_media_type: 'INVALID_ARGUMENT',
  rate_limit: 'RESOURCE_EXHAUSTED',
  upstream: 'UNAVAILABLE',
  timeout: 'DEADLINE_EXCEEDED',
  overloaded: 'UNAVAILABLE',
  internal: 'INTERNAL',
};
