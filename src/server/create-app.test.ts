import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import { createManagementAuthenticator } from '../security/management-keys.js';
import { UpstreamClient } from '../upstream/client.js';
import { createApp, type AppOptions } from './create-app.js';
import type { HookSlot } from './hooks/hook-order.js';
import { createLogger } from './logger.js';
import { clientRouteTable } from './routes/route-table.js';
import { buildRuntime, type Runtime } from './runtime.js';

/**
 * The three scopes and the hook order, through Fastify's inject (no socket needed: what is under
 * test is which hooks run for which path, in which order). Keys are generated per run.
 */
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const clientKey = `test-client-${randomBytes(16).toString('hex')}`;
const managementKey = `test-management-${randomBytes(16).toString('hex')}`;

let directory: string;
let runtime: Runtime;
let upstream: UpstreamClient;
/** One logger for every app of the file, its lines dropped. */
const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });
const apps: FastifyInstance[] = [];

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-scopes-'));
  const loaded = parseConfigText(
    [
      `auth: { api_keys: [{ id: alice, key_sha256: "${sha256Hex(clientKey)}" }] }`,
      'providers: { oai: { type: openai, base_url: "http://127.0.0.1:9/v1", allow_private_network: true, api_keys: [test-upstream-key-0001], models: [{ name: gpt-test }] } }',
      '',
    ].join('\n'),
    { sourceName: 'scopes-test.yaml', baseDir: directory, env: {} },
  );
  runtime = buildRuntime(loaded, { now: Date.now });
  upstream = new UpstreamClient({ connectTimeoutMs: 1_000, firstByteTimeoutMs: 1_000, idleTimeoutMs: 1_000, maxConnectionsPerOrigin: 1 });
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

afterAll(async () => {
  await upstream.close();
  rmSync(directory, { recursive: true, force: true });
});

interface TestAppOptions {
  slotHooks?: AppOptions['slotHooks'];
  runtime?: Runtime;
  isShuttingDown?: () => boolean;
}

async function appWith(options: TestAppOptions = {}): Promise<FastifyInstance> {
  const current = options.runtime ?? runtime;
  const app = createApp({
    runtime: () => current,
    upstream,
    logger,
    now: Date.now,
    isShuttingDown: options.isShuttingDown ?? (() => false),
    bodyLimitBytes: 1_048_576,
    timeouts: { headersMs: 5_000, requestMs: 10_000, keepAliveMs: 1_000 },
    maxHeaderBytes: 16_384,
    accessLog: false,
    ...(options.slotHooks === undefined ? {} : { slotHooks: options.slotHooks }),
  });
  apps.push(app);
  await app.ready();
  return app;
}

/** The ways a client sends its key; each must be refused by the management scope. */
const clientKeyPlacements: [string, Record<string, string>, string][] = [
  ['Authorization: Bearer', { authorization: `Bearer ${clientKey}` }, ''],
  ['x-api-key', { 'x-api-key': clientKey }, ''],
  ['x-goog-api-key', { 'x-goog-api-key': clientKey }, ''],
  ['x-management-key', { 'x-management-key': clientKey }, ''],
  ['?key=', {}, `?key=${clientKey}`],
];

describe('public scope', () => {
  it.each(['/healthz', '/readyz'])('%s answers 200 without a key', async (path) => {
    const app = await appWith();
    const response = await app.inject({ method: 'GET', url: path });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-request-id']).toMatch(/\S/);
  });

  it('runs no IP filter or limiter slot: a load balancer must always reach it', async () => {
    const seen: string[] = [];
    const app = await appWith({ slotHooks: recorders(seen, ['ip-filter', 'ip-rate-limit', 'key-policy']) });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(seen).toEqual([]);
  });
});

describe('client API scope', () => {
  it('refuses a request without a key with 401 in the path error shape', async () => {
    const app = await appWith();
    const response = await app.inject({ method: 'POST', url: '/v1/messages', payload: {} });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('answers an unknown path 401 without a key and 404 with one, as before the scopes', async () => {
    const app = await appWith();
    expect((await app.inject({ method: 'GET', url: '/no/such/route' })).statusCode).toBe(401);
    const keyed = await app.inject({ method: 'GET', url: '/no/such/route', headers: { authorization: `Bearer ${clientKey}` } });
    expect(keyed.statusCode).toBe(404);
    expect(keyed.json()).toMatchObject({ error: { code: 'GW_NOT_FOUND' } });
  });

  it('serves every row of the route table, behind the client key', async () => {
    const app = await appWith();
    for (const route of clientRouteTable) {
      expect(app.hasRoute({ method: 'POST', url: route.url }), route.url).toBe(true);
      expect((await app.inject({ method: 'POST', url: route.url, payload: {} })).statusCode, route.url).toBe(401);
    }
  });

  it('refuses a management key', async () => {
    const app = await appWith({ runtime: withManagement() });
    const response = await app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: `Bearer ${managementKey}` } });
    expect(response.statusCode).toBe(401);
  });
});

describe('management scope', () => {
  const paths = ['/v0/management', '/v0/management/config', '/v0/management/keys/alice', '/metrics'];

  it.each(paths)('%s answers 401 without a key', async (path) => {
    const app = await appWith();
    const response = await app.inject({ method: 'GET', url: path });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: 'GW_UNAUTHORIZED' } });
  });

  it.each(clientKeyPlacements)('a valid client key (%s) never opens it, enabled or not', async (_placement, headers, query) => {
    for (const current of [runtime, withManagement()]) {
      const app = await appWith({ runtime: current });
      for (const path of paths) {
        for (const method of ['GET', 'POST'] as const) {
          const response = await app.inject({ method, url: `${path}${query}`, headers, ...(method === 'POST' ? { payload: {} } : {}) });
          expect(response.statusCode, `${method} ${path}`).toBe(401);
        }
      }
    }
  });

  it('while disabled refuses even a key listed in management.keys', async () => {
    const app = await appWith();
    const response = await app.inject({ method: 'GET', url: '/metrics', headers: { 'x-management-key': managementKey } });
    expect(response.statusCode).toBe(401);
  });

  it('with a management key passes the authenticator; an unknown management path is 404', async () => {
    const app = await appWith({ runtime: withManagement() });
    for (const headers of [{ authorization: `Bearer ${managementKey}` }, { 'x-management-key': managementKey }]) {
      for (const path of ['/v0/management', '/v0/management/nope', '/v0/management/keys/alice', '/metrics']) {
        const response = await app.inject({ method: 'GET', url: path, headers });
        expect(response.statusCode, path).toBe(404);
        expect(response.json()).toMatchObject({ error: { code: 'GW_NOT_FOUND' } });
      }
    }
  });
});

describe('hook order', () => {
  it('runs the IP slots before the shutdown gate and the client key: a keyless request reaches them first', async () => {
    const seen: string[] = [];
    const app = await appWith({ slotHooks: recorders(seen, ['ip-filter', 'ip-rate-limit', 'key-policy']) });
    const response = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: {} });
    expect(response.statusCode).toBe(401);
    expect(seen).toEqual(['ip-filter', 'ip-rate-limit']);
  });

  it('runs the key-policy slot after the client key, with the principal set', async () => {
    const principals: unknown[] = [];
    const app = await appWith({
      slotHooks: {
        'key-policy': (request, _reply, done) => {
          principals.push(request.principal);
          done();
        },
      },
    });
    const response = await app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: `Bearer ${clientKey}` } });
    expect(response.statusCode).toBe(200);
    expect(principals).toEqual([{ id: 'alice', source: 'client-key', policy: { scoped: false, limited: false } }]);
  });

  it('a slot hook that refuses answers before the client key is looked at, in the path error shape', async () => {
    const app = await appWith({
      slotHooks: {
        'ip-filter': (request, reply) => {
          void reply.code(403).header('content-type', 'application/json').send({ refusedBy: 'ip-filter', principal: request.principal ?? null });
        },
      },
    });
    for (const headers of [{}, { authorization: `Bearer ${clientKey}` }]) {
      const response = await app.inject({ method: 'GET', url: '/v1/models', headers });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual({ refusedBy: 'ip-filter', principal: null });
    }
    const management = await app.inject({ method: 'GET', url: '/v0/management/x' });
    expect(management.statusCode, 'the IP slots guard the management scope too').toBe(403);
  });

  it('runs the IP slots before the shutdown gate', async () => {
    const seen: string[] = [];
    const app = await appWith({ slotHooks: recorders(seen, ['ip-filter']), isShuttingDown: () => true });
    const response = await app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: `Bearer ${clientKey}` } });
    expect(response.statusCode).toBe(503);
    expect(seen).toEqual(['ip-filter']);
  });
});

function recorders(seen: string[], slots: HookSlot[]): Partial<Record<HookSlot, onRequestHookHandler>> {
  return Object.fromEntries(
    slots.map((slot) => [
      slot,
      ((_request, _reply, done) => {
        seen.push(slot);
        done();
      }) satisfies onRequestHookHandler,
    ]),
  );
}

/** The runtime with management enabled and one management key. */
function withManagement(): Runtime {
  // A high lockout threshold: these tests send many client keys (wrong management keys) on purpose.
  const management = {
    ...runtime.loaded.config.management,
    enabled: true,
    keys: [{ id: 'ops', role: 'admin' as const, key_sha256: sha256Hex(managementKey) }],
    lockout: { max_failures: 1000, window_seconds: 60, duration_seconds: 60 },
  };
  const loaded = { ...runtime.loaded, config: { ...runtime.loaded.config, management } };
  const clientDigests = [{ id: 'alice', sha256: Buffer.from(sha256Hex(clientKey), 'hex') }];
  return { ...runtime, loaded, managementAuthenticator: createManagementAuthenticator(management, clientDigests, 'scopes-test.yaml') };
}
