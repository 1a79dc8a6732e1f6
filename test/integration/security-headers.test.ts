import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../helpers/gateway.js';
import { get, post, sendLargeBody, type JsonResponse } from '../helpers/http.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';
import { createTestCertificateAuthority, createTestLeafCertificate } from '../helpers/tls-certificates.js';

/**
 * The security response headers on every kind of answer (health, success, stream, and the refusals
 * of hooks, the not-found handler and the error handler), HSTS only over TLS, the switch that
 * turns them off, and CORS: off by default (a browser preflight gets the keyless 401), on for listed
 * origins only.
 */
const expected: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-xss-protection': '0',
};

function checkHeaders(label: string, headers: Headers): void {
  for (const [name, value] of Object.entries(expected)) expect(headers.get(name), `${label}: ${name}`).toBe(value);
  expect(headers.get('x-powered-by'), `${label}: x-powered-by`).toBeNull();
  expect(headers.get('strict-transport-security'), `${label}: no HSTS over plain HTTP`).toBeNull();
}

let setup: StandardSetup;
beforeAll(async () => {
  setup = await startStandardSetup({ extra: { server: { body_limit_bytes: 2048, security: { cors: { allowed_origins: ['https://app.example.test'] } } } } });
});
afterAll(() => setup.stop());

describe('security headers', () => {
  it('are on health, success, stream and every refusal', async () => {
    const { url, clientKey } = setup.testGateway;
    const auth = { authorization: `Bearer ${clientKey}` };
    const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
    setup.openaiStub.failNext({ status: 500 }, { times: 2 });
    const responses: [string, JsonResponse][] = [
      ['healthz', await get(`${url}/healthz`)],
      ['readyz', await get(`${url}/readyz`)],
      ['models', await get(`${url}/v1/models`, auth)],
      ['upstream 500 (error handler)', await post(`${url}/v1/chat/completions`, chat, auth)],
      ['stream', await post(`${url}/v1/chat/completions`, { ...chat, stream: true }, auth)],
      ['anthropic stream', await post(`${url}/v1/messages`, { model: 'claude-test', max_tokens: 16, stream: true, messages: chat.messages }, { 'x-api-key': clientKey, 'anthropic-version': '2023-06-01' })],
      ['400 malformed', await post(`${url}/v1/chat/completions`, '{', auth)],
      ['401 no key (hook)', await post(`${url}/v1/chat/completions`, chat)],
      ['404 unknown route', await get(`${url}/v1/nothing-here`, auth)],
      ['413 body over the limit', await post(`${url}/v1/chat/completions`, { ...chat, padding: 'x'.repeat(4096) }, auth)],
      ['415 content type', await post(`${url}/v1/chat/completions`, JSON.stringify(chat), { ...auth, 'content-type': 'text/plain' })],
      ['management 401', await get(`${url}/v0/management/config`, auth)],
    ];
    expect(responses.map(([label, response]) => `${label}: ${response.status}`)).toEqual([
      'healthz: 200', 'readyz: 200', 'models: 200', 'upstream 500 (error handler): 502', 'stream: 200', 'anthropic stream: 200',
      '400 malformed: 400', '401 no key (hook): 401', '404 unknown route: 404', '413 body over the limit: 413', '415 content type: 415', 'management 401: 401',
    ]);
    for (const [label, response] of responses) checkHeaders(label, response.headers);
    expect(responses.find(([label]) => label === 'stream')?.[1].headers.get('content-type')).toContain('text/event-stream');
  });

  it('are on the early 413 answered from Content-Length before the body is read', async () => {
    const exchange = await sendLargeBody(setup.testGateway.port, '/v1/chat/completions', { authorization: `Bearer ${setup.testGateway.clientKey}` }, 1_000_000);
    expect(exchange.responseText).toMatch(/^HTTP\/1\.1 413/);
    expect(exchange.responseText.toLowerCase()).toContain('x-content-type-options: nosniff');
    expect(exchange.responseText.toLowerCase()).toContain("content-security-policy: default-src 'none'; frame-ancestors 'none'");
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(`${setup.testGateway.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });

  it('answers the preflight of a listed origin, before the key check', async () => {
    const answer = await preflight('https://app.example.test');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    expect(answer.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    expect(answer.headers.get('vary')).toBe('Origin');
    checkHeaders('preflight', answer.headers);
  });

  it('gives an unlisted origin nothing: its preflight meets the 401, its request no allow-origin', async () => {
    const answer = await preflight('https://evil.example.test');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    const request = await post(`${setup.testGateway.url}/v1/chat/completions`, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, {
      authorization: `Bearer ${setup.testGateway.clientKey}`,
      origin: 'https://evil.example.test',
    });
    expect(request.status).toBe(200);
    expect(request.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is off without an allowlist: no preflight answer, no allow-origin', async () => {
    const plain = await startTestGateway({ providers: {} });
    try {
      const answer = await fetch(`${plain.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST' } });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.stop();
    }
  });

  it('refuses a wildcard origin in the config', async () => {
    await expect(startTestGateway({ providers: {}, extra: { server: { security: { cors: { allowed_origins: ['*'] } } } } })).rejects.toThrow(
      /server\.security\.cors\.allowed_origins\[0\]: '\*' is a wildcard/,
    );
  });
});

describe('HSTS and the switch', () => {
  it('sends HSTS with the configured max-age over TLS only', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'cliproxy-hsts-'));
    const served = join(directory, 'served');
    await mkdir(served, { mode: 0o700 });
    const authority = await createTestCertificateAuthority(directory);
    const leaf = await createTestLeafCertificate(authority, 'server', { directory: served });
    const gateway = await startTestGateway({
      providers: {},
      extra: { server: { tls: { enabled: true, cert_file: leaf.certFile, key_file: leaf.keyFile }, security: { headers: { hsts_max_age: 600 } } } },
    });
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        httpsRequest({ host: '127.0.0.1', port: gateway.port, path: '/healthz', servername: 'localhost', ca: authority.caCert }, (response) => {
          response.resume();
          resolve(response.headers);
        }).on('error', reject).end();
      });
      expect(headers['strict-transport-security']).toBe('max-age=600; includeSubDomains');
      expect(headers['x-content-type-options']).toBe('nosniff');
    } finally {
      await gateway.stop();
      await rm(directory, { recursive: true, force: true });
    }
  }, 60_000);

  it('sends none when server.security.headers.enabled is false', async () => {
    const gateway = await startTestGateway({ providers: {}, extra: { server: { security: { headers: { enabled: false } } } } });
    try {
      const answer = await get(`${gateway.url}/healthz`);
      for (const name of Object.keys(expected).filter((header) => header !== 'cache-control')) expect(answer.headers.get(name), name).toBeNull();
    } finally {
      await gateway.stop();
    }
  });
});
