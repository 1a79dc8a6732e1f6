import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { parseConfigText, type LoadedConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/main.js';
import type { ExchangeObserver } from '../../src/server/exchange.js';
import type { SecurityEventSink } from '../../src/credentials/security-events.js';

/**
 * Starts the real gateway for an integration test: real config pipeline (YAML text through
 * `parseConfigText`), a random loopback port, a temp dir as the config's base dir (so the data dir,
 * audit log and any generated key land there and are removed by `stop()`), a client key generated
 * at test time (never a constant that could be mistaken for a real one), and every pino log line
 * captured in memory so tests can search them for leaked secrets.
 */

/** A provider as it appears under `providers:` in the YAML config. */
export interface TestProviderConfig {
  type: 'openai' | 'anthropic' | 'gemini' | 'codex';
  base_url: string;
  /** Gemini Code Assist's project (a Code Assist base_url only). */
  project?: string;
  api_keys: (string | { key: string; priority?: number; models?: { name: string; alias?: string }[]; excluded_models?: string[] })[];
  excluded_models?: string[];
  models: { name: string; alias?: string; max_tokens?: number }[];
  rate_limit?: { requests_per_minute?: number; tokens_per_minute?: number };
  oauth?: Record<string, unknown>;
  /** Defaults to true here: test stubs listen on loopback, which the egress guard refuses otherwise. */
  allow_private_network?: boolean;
}

export interface StartTestGatewayOptions {
  providers: Record<string, TestProviderConfig>;
  /** Deep-merged over the test base config (objects merge, arrays and scalars replace). */
  extra?: Record<string, unknown>;
  /** Subscribers of the per-request record (a recording subscriber in the exchange tests). */
  exchangeObservers?: readonly ExchangeObserver[];
  /** The gateway's clock (epoch ms): a frozen one makes token buckets exact under a slow machine. */
  now?: () => number;
  /** Receives the security events (credential operations, management calls); stderr when omitted. */
  securityEvents?: SecurityEventSink;
  /** Applied to the loaded (validated) config before start (a management key added in place, metrics tests). */
  prepareLoaded?: (loaded: LoadedConfig) => LoadedConfig;
}

export interface TestGateway {
  gateway: RunningGateway;
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  clientKey: string;
  clientKeyId: string;
  /** Captured log lines (pino JSON), in order; grows while the gateway runs. */
  logs: string[];
  baseDir: string;
  /** Builds another LoadedConfig with the same key and base dir, for `gateway.reload()`. */
  buildConfig(options: StartTestGatewayOptions): LoadedConfig;
  stop(): Promise<void>;
}

export const testClientKeyId = 'test-client';

type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: PlainObject, override: PlainObject): PlainObject {
  const result: PlainObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}

/** Generates a client key the way a test should: random, obviously a test value, never committed. */
export function generateTestClientKey(): string {
  return `test-client-${randomBytes(24).toString('hex')}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function buildConfigText(options: StartTestGatewayOptions, clientKey: string): string {
  const base: PlainObject = {
    server: {
      host: '127.0.0.1',
      port: 0,
      // Many requests from one loopback IP in a few seconds: the per-IP limiter is not under test here.
      security: { rate_limit: { requests_per_second: 10_000, burst: 10_000 } },
      timeouts: { shutdown_grace_ms: 5_000 },
    },
    auth: { api_keys: [{ id: testClientKeyId, key_sha256: sha256Hex(clientKey) }] },
    upstream: { connect_timeout_ms: 2_000, first_byte_timeout_ms: 5_000, idle_timeout_ms: 5_000, max_attempts: 3, default_max_tokens: 1_024 },
    // Stubs listen on 127.0.0.1: every test provider may reach loopback unless the test says otherwise.
    providers: Object.fromEntries(Object.entries(options.providers).map(([name, provider]) => [name, { allow_private_network: true, ...provider }])),
  };
  return stringify(deepMerge(base, options.extra ?? {}));
}

/** Starts the gateway; always pair with `stop()` (in `afterAll`/`finally`). */
export async function startTestGateway(options: StartTestGatewayOptions): Promise<TestGateway> {
  const baseDir = await mkdtemp(join(tmpdir(), 'cliproxy-it-'));
  const clientKey = generateTestClientKey();
  const logs: string[] = [];
  let pending = '';
  const logStream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      logs.push(...lines.filter((line) => line !== ''));
      callback();
    },
  });
  const buildConfig = (buildOptions: StartTestGatewayOptions): LoadedConfig =>
    parseConfigText(buildConfigText(buildOptions, clientKey), { sourceName: 'integration-test.yaml', baseDir, env: {} });

  let gateway: RunningGateway;
  try {
    gateway = await startGateway({
      loaded: options.prepareLoaded === undefined ? buildConfig(options) : options.prepareLoaded(buildConfig(options)),
      logStream,
      ...(options.exchangeObservers === undefined ? {} : { exchangeObservers: options.exchangeObservers }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.securityEvents === undefined ? {} : { securityEvents: options.securityEvents }),
      // The management API's config reload re-reads what the test started with.
      configSource: () => buildConfig(options),
    });
  } catch (error) {
    await rm(baseDir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    gateway,
    url: gateway.url,
    port: gateway.port,
    clientKey,
    clientKeyId: testClientKeyId,
    logs,
    baseDir,
    buildConfig,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      try {
        await gateway.close();
      } finally {
        if (pending !== '') logs.push(pending);
        await rm(baseDir, { recursive: true, force: true });
      }
    },
  };
}
