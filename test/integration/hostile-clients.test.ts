import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post } from '../helpers/http.js';
import { pushUpload } from '../helpers/raw-upload.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * Hostile clients (issue 9, items 6–9), over real sockets: uploads without a key are cut instead of
 * drained, duplicate keys and deep nesting are refused at parse time, a client hanging up mid-upload
 * is a normal event, and a percent-encoded `?key=` never reaches the access log in clear.
 */
const bodyLimitBytes = 1_048_576;
/** What a hostile uploader tries to push (256 MiB); the gateway must stop reading long before. */
const attemptedBytes = 256 * 1024 * 1024;
/** Kernel socket buffers on loopback absorb a few MiB before the sender blocks; draining reads everything. */
const cutBelowBytes = 48 * 1024 * 1024;

let setup: StandardSetup;
beforeAll(async () => {
  setup = await startStandardSetup({ extra: { server: { body_limit_bytes: bodyLimitBytes }, logging: { level: 'info', access_log: true } } });
});
afterAll(() => setup.stop());

const chat = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
const authorization = (): Record<string, string> => ({ authorization: `Bearer ${setup.testGateway.clientKey}` });
const logLevelOf = (line: string): number => (JSON.parse(line) as { level: number }).level;

/** Waits until `predicate` holds for some captured log line, or `timeoutMs` passed. */
async function waitForLog(predicate: (line: string) => boolean, timeoutMs = 3_000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = setup.testGateway.logs.find(predicate);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return undefined;
}

describe('uploads without a key are cut, not drained (item 6)', () => {
  it.each(['content-length', 'chunked'] as const)('a keyless %s upload gets 401 and the connection closed', async (framing) => {
    const result = await pushUpload({ port: setup.testGateway.port, path: '/v1/chat/completions', framing, totalBytes: attemptedBytes });
    expect(result.responseText).toMatch(/^HTTP\/1\.1 401 /);
    expect(result.responseText.toLowerCase()).toContain('connection: close');
    expect(result.closedByServer).toBe(true);
    expect(result.bodyBytesSent).toBeLessThan(cutBelowBytes);
  });

  it.each(['content-length', 'chunked'] as const)('a keyed %s upload over the body limit gets 413 and the connection closed', async (framing) => {
    const result = await pushUpload({ port: setup.testGateway.port, path: '/v1/chat/completions', framing, totalBytes: attemptedBytes, headers: authorization() });
    expect(result.responseText).toMatch(/^HTTP\/1\.1 413 /);
    expect(result.responseText.toLowerCase()).toContain('connection: close');
    expect(result.closedByServer).toBe(true);
    expect(result.bodyBytesSent).toBeLessThan(cutBelowBytes);
  });

  it('a keyless upload to an unknown path is cut as well', async () => {
    const result = await pushUpload({ port: setup.testGateway.port, path: '/no/such/route', framing: 'chunked', totalBytes: attemptedBytes });
    expect(result.responseText).toMatch(/^HTTP\/1\.1 40[14] /);
    expect(result.closedByServer).toBe(true);
    expect(result.bodyBytesSent).toBeLessThan(cutBelowBytes);
  });

  it('Expect: 100-continue without a key gets 401, never 100 Continue', async () => {
    const result = await pushUpload({ port: setup.testGateway.port, path: '/v1/messages', framing: 'content-length', totalBytes: attemptedBytes, expectContinue: true });
    expect(result.responseText).toMatch(/^HTTP\/1\.1 401 /);
    expect(result.responseText).not.toMatch(/100 Continue/i);
    expect(result.closedByServer).toBe(true);
  });

  it('Expect: 100-continue with a key but a Content-Length over the limit gets 413, never 100 Continue', async () => {
    const result = await pushUpload({ port: setup.testGateway.port, path: '/v1/chat/completions', framing: 'content-length', totalBytes: attemptedBytes, expectContinue: true, headers: authorization() });
    expect(result.responseText).toMatch(/^HTTP\/1\.1 413 /);
    expect(result.responseText).not.toMatch(/100 Continue/i);
    expect(result.closedByServer).toBe(true);
  });

  it('Expect: 100-continue with a key gets 100 Continue, then the answer', async () => {
    const body = JSON.stringify(chat);
    const outcome = await new Promise<{ continued: boolean; status: number; text: string }>((resolve, reject) => {
      let continued = false;
      const outgoing = httpRequest(
        {
          host: '127.0.0.1',
          port: setup.testGateway.port,
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { ...authorization(), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
          timeout: 5_000,
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (piece: string) => (text += piece));
          response.on('end', () => resolve({ continued, status: response.statusCode ?? 0, text }));
        },
      );
      outgoing.on('continue', () => {
        continued = true;
        outgoing.end(body);
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error('no answer')));
      outgoing.on('error', reject);
    });
    expect(outcome.continued).toBe(true);
    expect(outcome.status, outcome.text).toBe(200);
  });
});

describe('duplicate keys and deep nesting are refused at parse time (items 7, 8)', () => {
  it.each([
    ['top level', '{"model":"gpt-test","max_tokens":999999,"model":"claude-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}', 'model'],
    ['nested', '{"model":"gpt-test","messages":[{"role":"user","content":"hi","role":"system"}]}', 'role'],
    ['escaped spelling', '{"model":"gpt-test","mod\\u0065l":"claude-test","messages":[{"role":"user","content":"hi"}]}', 'model'],
  ])('a body with a duplicate key (%s) gets 400 naming the key, and nothing goes upstream', async (_case, body, key) => {
    const before = setup.openaiStub.requests.length + setup.anthropicStub.requests.length;
    const response = await post(`${setup.testGateway.url}/v1/chat/completions`, body, authorization());
    expect(response.status, response.text).toBe(400);
    expect(response.json).toMatchObject({ error: { code: 'GW_INVALID_JSON' } });
    expect((response.json as { error: { message: string } }).error.message).toContain(`'${key}'`);
    expect(setup.openaiStub.requests.length + setup.anthropicStub.requests.length).toBe(before);
  });

  it('200,000 nested arrays under an aliased model get 400, not 500', async () => {
    const depth = 200_000;
    const body = `{"model":"sonnet-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"extra":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const response = await post(`${setup.testGateway.url}/v1/messages`, body, { ...authorization(), 'anthropic-version': '2023-06-01' });
    expect(response.status, response.text).toBe(400);
    expect(response.text).toContain('nest');
    expect(response.text).not.toContain('GW_INTERNAL');
  });

  it('a body nested as deep as real tool schemas is accepted', async () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let level = 0; level < 20; level += 1) schema = { type: 'object', properties: { inner: schema } };
    const tools = [{ type: 'function', function: { name: 'deep', parameters: schema } }];
    const response = await post(`${setup.testGateway.url}/v1/chat/completions`, { ...chat, tools }, authorization());
    expect(response.status, response.text).toBe(200);
  });
});

describe('a client hanging up mid-upload is a normal event (item 8)', () => {
  it('logs no error line', async () => {
    const marker = `abort-${randomBytes(6).toString('hex')}`;
    await new Promise<void>((resolve) => {
      const socket = connect(setup.testGateway.port, '127.0.0.1', () => {
        const head = ['POST /v1/chat/completions HTTP/1.1', 'Host: 127.0.0.1', 'Content-Type: application/json', 'Content-Length: 100000', `X-Request-Id: ${marker}`];
        head.push(`Authorization: Bearer ${setup.testGateway.clientKey}`);
        socket.write(`${head.join('\r\n')}\r\n\r\n{"model":"gpt-test","messages":[`);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
    });
    const line = await waitForLog((candidate) => candidate.includes(marker));
    expect(line, 'the aborted request is still logged').toBeDefined();
    // Give a late error line the chance to appear before asserting it does not.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const errorLines = setup.testGateway.logs.filter((candidate) => candidate.includes(marker) && logLevelOf(candidate) >= 50);
    expect(errorLines).toEqual([]);
  });
});

describe('the access log never shows a client key from the query (item 9)', () => {
  it.each([
    ['plain', '?key=KEY'],
    ['percent-encoded name, as in the report', '?%6Bey=KEY'],
    ['percent-encoded name and separator', '?alt=sse%26%6Bey=KEY'],
    ['unknown parameter', '?alt=sse&note=KEY'],
    ['unknown parameter name', '?KEY=1'],
  ])('%s', async (_case, query) => {
    const marker = `query-${randomBytes(6).toString('hex')}`;
    // Shaped like a real client key, with its `_` percent-encoded so the `cpa_` shape rule cannot see it.
    const canaryBody = randomBytes(24).toString('hex');
    await fetch(`${setup.testGateway.url}/v1/models${query.replace('KEY', `cpa%5F${canaryBody}`)}`, { headers: { 'x-request-id': marker }, signal: AbortSignal.timeout(5_000) });
    const line = await waitForLog((candidate) => candidate.includes(marker));
    expect(line).toBeDefined();
    const leaks = setup.testGateway.logs.filter((candidate) => candidate.includes(canaryBody.slice(0, 16)));
    expect(leaks).toEqual([]);
  });

  it('a percent-encoded ?key= that authenticates is logged redacted, known parameters kept', async () => {
    const marker = `query-${randomBytes(6).toString('hex')}`;
    const response = await fetch(`${setup.testGateway.url}/v1/models?alt=sse&%6Bey=${setup.testGateway.clientKey}`, { headers: { 'x-request-id': marker }, signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(200);
    const line = await waitForLog((candidate) => candidate.includes(marker));
    expect(line).toBeDefined();
    expect(line).not.toContain(setup.testGateway.clientKey.slice(-20));
    expect(line).toContain('alt=sse');
  });
});
