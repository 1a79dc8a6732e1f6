import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { DeepReadonly } from './deep-freeze.js';
import { restartOnly } from './restart-only.js';

/**
 * The one config schema. Every object is closed (`additionalProperties: false`), so a typo such as
 * `server.prot` is an error naming its path instead of a silently ignored key. Defaults live in
 * `defaults.ts`, not here, so this file reads as the shape alone. Units are in the key names.
 * `restartOnly(…)` marks what the running process reads once at start (restart-only.ts): a reload
 * that changes it is reported, and docs/configuration.md lists exactly these.
 */
const closed = <T extends Parameters<typeof Type.Object>[0]>(properties: T) =>
  Type.Object(properties, { additionalProperties: false });

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const PositiveInt = Type.Integer({ minimum: 1 });
const NonNegativeInt = Type.Integer({ minimum: 0 });
const NonEmpty = Type.String({ minLength: 1 });
const Sha256Hex = Type.String({ pattern: '^[0-9a-fA-F]{64}$' });
/**
 * Client and management key ids: safe in logs, audit records and metric labels. The one copy of the
 * rule: the key files, the key commands and the management API's parameters use these.
 */
export const keyIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const KeyId = Type.String({ pattern: keyIdPattern.source });

/**
 * TLS termination (security/tls-*.ts). Restart-only as a whole: the listener is built once; the
 * certificate and key *files* are reloaded when they change, without a restart. Suites by IANA name
 * (config/tls-cipher-suites.ts): `cipher_suites` for TLS 1.2, `cipher_suites_tls13` for TLS 1.3.
 */
const TlsConfig = closed({
  enabled: Type.Boolean(),
  cert_file: NonEmpty,
  key_file: NonEmpty,
  min_version: Type.Union([Type.Literal('1.2'), Type.Literal('1.3')]),
  cipher_suites: Type.Array(NonEmpty),
  cipher_suites_tls13: Type.Array(NonEmpty),
  /**
   * PEM file of the CA(s) whose client certificates the management scope (`/v0/management/*`,
   * `/metrics`) requires (mTLS). Absent: no client certificate is asked for. Needs `enabled: true`.
   * The file is reloaded with the certificate and key.
   */
  management_client_ca_file: Type.Optional(NonEmpty),
});

const SecurityConfig = closed({
  /** Security response headers (server/hooks/security-headers.ts), computed once at start. `hsts_max_age` in seconds, sent only over TLS. */
  headers: restartOnly(closed({ enabled: Type.Boolean(), hsts_max_age: NonNegativeInt })),
  /** Origins (`https://app.example.com`) whose browser pages may read client API answers; empty = CORS off. */
  cors: restartOnly(closed({ allowed_origins: Type.Array(NonEmpty) })),
  ip_allowlist: closed({ enabled: Type.Boolean(), allowed_ips: Type.Array(NonEmpty) }),
  ip_denylist: Type.Array(NonEmpty),
  /** Per client IP (IPv6 per /64), token bucket: `burst` requests at once, refilled at `requests_per_second`. */
  rate_limit: closed({ enabled: Type.Boolean(), requests_per_second: PositiveInt, burst: PositiveInt }),
});

/** Socket-level timeouts of the listening server, in milliseconds. */
const ServerTimeouts = closed({
  headers_ms: PositiveInt,
  request_ms: PositiveInt,
  keep_alive_ms: PositiveInt,
  shutdown_grace_ms: NonNegativeInt,
});

/**
 * Client request bodies (server/request-rules.ts). All hot-reloaded.
 * `strict`: refuse unknown top-level fields (off by default: the SDKs add fields faster than the gateway).
 * `max_json_depth`: nesting of objects and arrays anywhere in the body, unknown fields included.
 * `max_messages`: entries of the surface's message list.
 */
const RequestValidation = closed({
  max_tokens: PositiveInt,
  strict: Type.Boolean(),
  max_json_depth: Type.Integer({ minimum: 8, maximum: 512 }),
  max_messages: PositiveInt,
});

const ServerConfig = closed({
  host: restartOnly(NonEmpty),
  port: restartOnly(Port),
  trusted_proxies: Type.Array(NonEmpty),
  body_limit_bytes: restartOnly(Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024 })),
  timeouts: restartOnly(ServerTimeouts),
  tls: restartOnly(TlsConfig),
  /** Largest request head (request line + headers) Node's parser accepts; over it → 431 (server/client-error.ts). */
  max_header_bytes: restartOnly(Type.Integer({ minimum: 4096, maximum: 1024 * 1024 })),
  /** Open connections one client address may hold; excess ones are closed at accept. 0 = no cap. */
  max_connections_per_ip: NonNegativeInt,
  security: SecurityConfig,
  validation: RequestValidation,
});

/**
 * RFC 3339 date-time with an explicit offset (`2027-01-31T23:59:59Z`, `…+02:00`); a date that does
 * not exist (month 13) is refused when the policy is compiled (security/key-policy.ts).
 */
const Rfc3339 = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$' });

/** A model or provider pattern of a key's scope: `*` matches any run of characters (`claude-*`). */
const ScopePattern = Type.String({ minLength: 1, maxLength: 200 });

/**
 * What governs one client key (docs/keys.md), the same fields in `auth.api_keys` and in the key
 * file (security/client-key-file.ts). All optional: a key without them is unrestricted.
 * `models` / `providers`: allowlists, `*` wildcards (a model passes when its requested name or its
 * upstream name matches). `expires_at`: refused with 401 from then on. `rate_limit`: per-minute
 * buckets like `providers.<name>.rate_limit`. `max_concurrency`: requests in flight at once; the
 * next one waits up to `concurrency_wait_ms` (0 = refused at once) for a slot, then 429.
 * `budgets`: tokens per UTC calendar day / month, reserved before a request and settled with its
 * real usage. `metadata`: free-form labels (team, owner), bounded; never used for decisions.
 */
export const ClientKeyPolicyFields = {
  models: Type.Optional(Type.Array(ScopePattern, { maxItems: 256 })),
  providers: Type.Optional(Type.Array(ScopePattern, { maxItems: 64 })),
  expires_at: Type.Optional(Rfc3339),
  disabled: Type.Optional(Type.Boolean()),
  rate_limit: Type.Optional(closed({ requests_per_minute: Type.Optional(PositiveInt), tokens_per_minute: Type.Optional(PositiveInt) })),
  max_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  concurrency_wait_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  budgets: Type.Optional(closed({ tokens_per_day: Type.Optional(PositiveInt), tokens_per_month: Type.Optional(PositiveInt) })),
  metadata: Type.Optional(
    Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,31}$' }), Type.String({ maxLength: 256, pattern: '^[^\\x00-\\x1f\\x7f]*$' }), { maxProperties: 16 }),
  ),
};

/** The governance fields as one closed object (the type below; the key file and the API build theirs from the fields). */
export const ClientKeyPolicyObject = closed(ClientKeyPolicyFields);

/** A client key: `key_sha256` (preferred) or a plain `key` (accepted with a warning), with its policy fields. */
const ClientKey = Type.Union([
  closed({ id: KeyId, key_sha256: Sha256Hex, ...ClientKeyPolicyFields }),
  closed({ id: KeyId, key: Type.String({ minLength: 1 }), ...ClientKeyPolicyFields }),
]);

const AuthConfig = closed({
  /** The credential store and its keyring are opened once at start. */
  dir: restartOnly(NonEmpty),
  /** Where `cliproxyapi keys create` keeps client key hashes (0600, beside the credential dir). Read on reload, but watched from start. */
  client_keys_file: restartOnly(NonEmpty),
  /** `key`: the seed's form (base64 of 32 bytes, or a 32-character string), accepted with a warning; prefer key_file or CLIPROXY_ENCRYPTION_KEY. */
  encryption: restartOnly(closed({ enabled: Type.Boolean(), key_file: NonEmpty, key: Type.Optional(Type.String({ minLength: 1 })) })),
  api_keys: Type.Array(ClientKey),
});

/**
 * An upstream key: a string, or an object with a priority tier (lower first; equal tiers share load
 * round-robin), the models only this key serves (`models`: names and aliases beside the provider's,
 * requests for them use this key) and the models it must not be used for (`excluded_models`,
 * `*` wildcards).
 */
const UpstreamKey = Type.Union([
  Type.String({ minLength: 1 }),
  closed({
    key: Type.String({ minLength: 1 }),
    priority: Type.Optional(NonNegativeInt),
    models: Type.Optional(Type.Array(closed({ name: NonEmpty, alias: Type.Optional(NonEmpty) }))),
    excluded_models: Type.Optional(Type.Array(NonEmpty)),
  }),
]);

/** `max_tokens`: this model's cap on a client's max_tokens, replacing `server.validation.max_tokens` for it. */
const ModelEntry = closed({ name: NonEmpty, alias: Type.Optional(NonEmpty), max_tokens: Type.Optional(PositiveInt) });

/**
 * OAuth refresh settings for the provider's stored OAuth credentials (oauth/refresh.ts). All
 * optional: the profile's defaults (providers/oauth-profiles.ts) are the real endpoints; tests and
 * private deployments point `token_url` elsewhere. `refresh_lead_ms`: refresh this long before expiry.
 */
const ProviderOAuthConfig = closed({
  profile: Type.Optional(Type.Union([Type.Literal('anthropic'), Type.Literal('openai-codex'), Type.Literal('google')])),
  token_url: Type.Optional(Type.String({ pattern: '^https?://' })),
  client_id: Type.Optional(NonEmpty),
  client_secret: Type.Optional(NonEmpty),
  refresh_lead_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 24 * 60 * 60 * 1000 })),
  /** `cliproxyapi login`: the consent page (opened in a browser), the scopes, the loopback callback port (0 = any free port). */
  authorize_url: Type.Optional(Type.String({ pattern: '^https?://' })),
  scope: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, pattern: '^[\\x21-\\x7e]+( [\\x21-\\x7e]+)*$' })),
  redirect_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
});

const ProviderConfig = closed({
  type: Type.Union([Type.Literal('openai'), Type.Literal('anthropic'), Type.Literal('gemini'), Type.Literal('codex')]),
  base_url: Type.String({ pattern: '^https?://' }),
  /** Gemini Code Assist only (`type: gemini` with a Code Assist base_url): the Google Cloud project its requests name. */
  project: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' })),
  api_keys: Type.Array(UpstreamKey),
  models: Type.Array(ModelEntry),
  /** Model names this provider never serves, `*` wildcards (`*-preview`): left out of routing and model lists, even in the `provider/model` form. */
  excluded_models: Type.Optional(Type.Array(NonEmpty)),
  /** Budgets of the whole provider (every client together), as token buckets refilled per minute; tokens are reserved before the call and settled with the real usage after. */
  rate_limit: Type.Optional(closed({ requests_per_minute: Type.Optional(PositiveInt), tokens_per_minute: Type.Optional(PositiveInt) })),
  device_fingerprint: Type.Optional(Type.Boolean()),
  oauth: Type.Optional(ProviderOAuthConfig),
  /**
   * Lets `base_url` and `oauth.token_url` reach private, loopback, link-local, CGNAT, unique-local and
   * metadata addresses (egress/egress-guard.ts). Off by default: only a local model server or a test
   * stub needs it.
   */
  allow_private_network: Type.Optional(Type.Boolean()),
});

/** Upstream HTTP behaviour, in milliseconds. The timeouts and pool size are the upstream client's, built once at start. */
const UpstreamConfig = closed({
  connect_timeout_ms: restartOnly(PositiveInt),
  /** Time to the response headers; LLMs answering non-streamed can take minutes. */
  first_byte_timeout_ms: restartOnly(PositiveInt),
  /** Longest silence between two body chunks. */
  idle_timeout_ms: restartOnly(PositiveInt),
  /** Sockets per upstream origin (keep-alive pool size); requests beyond it wait for a free socket. */
  max_connections_per_origin: restartOnly(Type.Integer({ minimum: 1, maximum: 65_536 })),
  /** Upper bound of attempts across credentials for one request. */
  max_attempts: Type.Integer({ minimum: 1, maximum: 10 }),
  /** Resend a request that was sent but got no response headers in time to the next credential (may be billed twice). */
  failover_on_first_byte_timeout: Type.Boolean(),
  /** Anthropic requires max_tokens; used when an OpenAI client sends none. */
  default_max_tokens: PositiveInt,
});

const StateConfig = Type.Union([
  closed({ backend: Type.Literal('memory') }),
  closed({ backend: Type.Literal('redis'), url: Type.String({ pattern: '^rediss?://' }) }),
]);

/**
 * The audit log (src/audit/). `file` is this process's live file (rotated by size to
 * `<stem>.<last seq><ext>`); `key_file` (optional) makes the chain HMAC-SHA-256 under a 0600 key
 * file, created at first start; `flush_interval_ms` bounds what a crash can lose; `stdout` also
 * writes each record line to stdout (for a collector that anchors the chain elsewhere).
 * Restart-only: the writer is opened once.
 */
const AuditConfig = restartOnly(
  closed({
    enabled: Type.Boolean(),
    file: NonEmpty,
    key_file: Type.Optional(NonEmpty),
    max_file_bytes: Type.Integer({ minimum: 64 * 1024, maximum: 1024 * 1024 * 1024 }),
    flush_interval_ms: Type.Integer({ minimum: 10, maximum: 5_000 }),
    stdout: Type.Boolean(),
  }),
);

/**
 * Usage accounting (usage/usage-store.ts, docs/keys.md#usage): tokens per client key, provider,
 * model and credential by hour, appended to `file` (0600) every `flush_interval_ms` — what a
 * crash (SIGKILL) loses at most. Restart-only: the store is opened once.
 */
const UsageConfig = restartOnly(
  closed({
    enabled: Type.Boolean(),
    file: NonEmpty,
    flush_interval_ms: Type.Integer({ minimum: 10, maximum: 60_000 }),
  }),
);

/** A span of time as the alert rules write it: `500ms`, `30s`, `5m`, `1h` (config/alert-rules.ts reads it). */
const Duration = Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' });

/**
 * One alert rule (alerts/): `condition` is `<counter> <operator> <number>` (config/alert-rules.ts),
 * counted over a sliding window of `duration`, per client IP when `action` is `block_ip`.
 * `block_duration`: how long `block_ip` blocks the address. `cooldown`: after firing, the rule
 * stays quiet this long (per IP for block_ip), so a firing rule does not flood the webhook.
 */
const AlertConfig = closed({
  name: NonEmpty,
  condition: NonEmpty,
  duration: Duration,
  action: Type.Union([Type.Literal('notify_admin'), Type.Literal('block_ip')]),
  block_duration: Type.Optional(Duration),
  cooldown: Type.Optional(Duration),
});

/**
 * Where `notify_admin` sends (alerts/webhook.ts). `url` absent = no webhook (a notify_admin rule is
 * then a config error). The body is HMAC-SHA-256 signed with the secret from `secret_file` (0600) or
 * the env `CLIPROXY_ALERT_WEBHOOK_SECRET`. Egress-guarded like an upstream: a private address only
 * with `allow_private_network`. `max_tracked_ips`: client IPs whose windows are kept (oldest dropped).
 */
const AlertingConfig = closed({
  webhook: closed({
    url: Type.Optional(Type.String({ pattern: '^https?://' })),
    secret_file: NonEmpty,
    timeout_ms: PositiveInt,
    max_attempts: Type.Integer({ minimum: 1, maximum: 10 }),
    allow_private_network: Type.Boolean(),
  }),
  max_tracked_ips: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
});

/**
 * Prometheus metrics (metrics/, server/routes/metrics.ts). `enabled`: counted and served at
 * `GET /metrics` behind a management key. `listener`: a second listener serving only `/metrics`
 * without a key, for a Prometheus on the same host; loopback addresses only.
 */
const MetricsConfig = closed({
  enabled: Type.Boolean(),
  listener: closed({ enabled: Type.Boolean(), host: NonEmpty, port: Port }),
});

/** `viewer` is the seed's name of `auditor`: accepted with a warning (config/validate-semantics.ts). */
const ManagementRole = Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('auditor'), Type.Literal('viewer')]);

/**
 * The management API (src/management/, /v0/management). Keys come from `keys` and from `keys_file`
 * (written by `cliproxyapi management-keys create`, hashes only, 0600). `totp_file` holds the
 * admin keys' TOTP secrets, encrypted under the credential keyring. Lockout per client IP: after
 * `max_failures` wrong keys within `window_seconds`, refused for `duration_seconds`.
 */
const ManagementConfig = closed({
  enabled: Type.Boolean(),
  allow_remote: Type.Boolean(),
  keys: Type.Array(closed({ id: KeyId, role: ManagementRole, key_sha256: Sha256Hex })),
  /** Read on reload, but watched from start (like auth.client_keys_file). */
  keys_file: restartOnly(NonEmpty),
  totp_file: NonEmpty,
  lockout: closed({
    max_failures: Type.Integer({ minimum: 1, maximum: 1000 }),
    window_seconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
    duration_seconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
  }),
});

const LoggingConfig = closed({
  level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level))),
  /** One line per request; off saves a few microseconds per request. */
  access_log: Type.Boolean(),
});

export const ConfigSchema = closed({
  server: ServerConfig,
  auth: AuthConfig,
  providers: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }), ProviderConfig),
  upstream: UpstreamConfig,
  /** The state backend is opened once at start. */
  state: restartOnly(StateConfig),
  audit: AuditConfig,
  usage: UsageConfig,
  alerts: Type.Array(AlertConfig),
  /** The webhook notifier and its secret are set up once at start; the rules (`alerts`) reload. */
  alerting: restartOnly(AlertingConfig),
  /** The metrics observer and listener are set up once at start. */
  metrics: restartOnly(MetricsConfig),
  management: ManagementConfig,
  logging: restartOnly(LoggingConfig),
});

export type Config = Static<typeof ConfigSchema>;
export type ProviderConfig = Static<typeof ProviderConfig>;
/**
 * What every consumer receives: the loader deep-freezes the config, so its type says read-only at
 * every depth, and a function that only reads config takes these rather than a cast to `Config`.
 */
export type ReadonlyConfig = DeepReadonly<Config>;
export type ReadonlyProviderConfig = DeepReadonly<ProviderConfig>;
export type ClientKeyConfig = Static<typeof ClientKey>;
/** The governance fields of a client key as loaded (frozen), from either source. */
export type ClientKeyPolicyConfig = DeepReadonly<Static<typeof ClientKeyPolicyObject>>;
export type ManagementRoleConfig = Static<typeof ManagementRole>;
export type UpstreamKeyConfig = Static<typeof UpstreamKey>;
export type ConfigSchemaType = TSchema;
