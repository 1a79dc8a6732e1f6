import type { Config } from './schema.js';

/**
 * The embedded default: what `cliproxyapi serve` runs with no config file. Secure by default:
 * loopback bind, encryption, audit and rate limits on. Paths are relative to the config file's
 * directory (or the working directory when there is no file).
 */
export const defaultConfig: Config = {
  server: {
    host: '127.0.0.1',
    port: 8317,
    trusted_proxies: [],
    body_limit_bytes: 1_048_576, // 1 MiB
    timeouts: {
      headers_ms: 10_000, // slowloris bound: a client has 10 s to send its headers
      request_ms: 60_000, // ...and 60 s to send the whole request body
      keep_alive_ms: 5_000, // idle keep-alive sockets closed after 5 s
      shutdown_grace_ms: 30_000, // in-flight streams get 30 s to finish on SIGTERM
    },
    tls: {
      enabled: false,
      cert_file: 'tls.crt',
      key_file: 'tls.key',
      min_version: '1.2', // TLS 1.0 and 1.1 are never offered
      // ECDHE + AEAD only, for ECDSA and RSA certificates (config/tls-cipher-suites.ts).
      cipher_suites: [
        'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
        'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
        'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
        'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
        'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
        'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
      ],
      cipher_suites_tls13: ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'],
    },
    security: {
      headers: { enabled: true, hsts_max_age: 31_536_000 }, // HSTS 1 year, sent only over TLS
      cors: { allowed_origins: [] }, // CORS off
      ip_allowlist: { enabled: false, allowed_ips: [] },
      ip_denylist: [],
      rate_limit: { enabled: true, requests_per_second: 10, burst: 20 }, // per client IP (IPv6 per /64)
    },
    max_header_bytes: 16_384, // 16 KiB, Node's default: the largest real client head is a few KiB
    max_connections_per_ip: 256, // Claude Code and the SDKs keep a handful of keep-alive sockets each
    validation: {
      max_tokens: 131_072, // 128 Ki tokens: admits Claude Code's 128,000 (docs/configuration.md)
      strict: false, // unknown top-level fields pass: new SDK fields must not break clients (docs/security/network.md)
      max_json_depth: 128, // levels of objects and arrays; real tool schemas nest 20-40
      max_messages: 10_000, // a week-long Claude Code session stays in the low thousands
    },
  },
  auth: {
    dir: './data/auths',
    client_keys_file: './data/client-keys.json',
    encryption: { enabled: true, key_file: './data/encryption.key' },
    api_keys: [],
  },
  providers: {},
  upstream: {
    connect_timeout_ms: 10_000, // 10 s
    first_byte_timeout_ms: 300_000, // 5 min: long non-streamed completions
    idle_timeout_ms: 120_000, // 2 min of silence mid-body
    max_connections_per_origin: 2_048, // bounds sockets per provider; 1,000 concurrent streams fit
    max_attempts: 3,
    failover_on_first_byte_timeout: false, // a sent request may be billed; its slowness says nothing about the key
    default_max_tokens: 4096,
  },
  state: { backend: 'memory' },
  audit: {
    enabled: true,
    file: './data/logs/audit.jsonl',
    max_file_bytes: 67_108_864, // 64 MiB, then rotated
    flush_interval_ms: 100, // a crash loses at most this much of events
    stdout: false,
  },
  usage: {
    enabled: true,
    file: './data/usage.jsonl',
    flush_interval_ms: 1_000, // a crash (SIGKILL) loses at most this much of usage
  },
  alerts: [],
  alerting: {
    webhook: { secret_file: './data/alert-webhook.key', timeout_ms: 5_000, max_attempts: 4, allow_private_network: false },
    max_tracked_ips: 10_000, // windows of this many client IPs (~0.3 KiB each); the oldest is dropped beyond
  },
  metrics: { enabled: true, listener: { enabled: false, host: '127.0.0.1', port: 9464 } },
  management: {
    enabled: false, // the API is off until an operator turns it on and creates a key
    allow_remote: false, // loopback clients only; remote needs server.tls.enabled too
    keys: [],
    keys_file: './data/management-keys.json',
    totp_file: './data/management-totp.json',
    lockout: { max_failures: 5, window_seconds: 900, duration_seconds: 900 }, // 5 wrong keys in 15 min → 15 min out
  },
  logging: { level: 'info', access_log: true },
};
