import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';
import { createTestCertificateAuthority, createTestLeafCertificate } from '../helpers/tls-certificates.js';

/**
 * What the gateway does before a request exists, over raw sockets: the per-IP connection cap
 * closes the excess connection at accept, a head over `server.max_header_bytes` gets 431 in the
 * surface's error shape, and a client trickling its headers or its body (slowloris) is cut with
 * 408 within the configured bound instead of holding the socket.
 */
const maxConnectionsPerIp = 4;
const headersMs = 1_000;
const requestMs = 3_000;
/** Node checks timeouts once a second (create-app.ts); beyond that, slack for a loaded machine. Its default check (30 s) would miss this. */
const cutWithinMs = requestMs + 7_000;

let capped: StandardSetup;
let slow: StandardSetup;
beforeAll(async () => {
  [capped, slow] = await Promise.all([
    startStandardSetup({ extra: { server: { max_connections_per_ip: maxConnectionsPerIp } } }),
    startStandardSetup({ extra: { server: { timeouts: { headers_ms: headersMs, request_ms: requestMs } } } }),
  ]);
});
afterAll(async () => {
  await Promise.all([capped?.stop(), slow?.stop()]);
});

interface RawSocket {
  socket: Socket;
  /** Everything received, as text. */
  received: () => string;
  /** Resolves when the server closed the socket, with the time since connect. */
  closed: Promise<number>;
}

function openSocket(port: number): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let text = '';
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<number>((resolveClosed) => socket.once('close', () => resolveClosed(Date.now() - started)));
    socket.on('data', (data: Buffer) => (text += data.toString('latin1')));
    socket.on('error', () => undefined); // a reset is what some refusals look like; `closed` reports it
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}

/** Sends a complete keep-alive GET /healthz and waits for its status line. */
async function healthOver(raw: RawSocket): Promise<string> {
  raw.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const deadline = Date.now() + 5_000;
  while (!raw.received().includes('\r\n\r\n') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return raw.received().split('\r\n', 1)[0] ?? '';
}

describe('per-IP connection cap', () => {
  it(`the connection beyond ${maxConnectionsPerIp} is closed at accept, unanswered; a freed slot is usable again`, async () => {
    const held = await Promise.all(Array.from({ length: maxConnectionsPerIp }, () => openSocket(capped.testGateway.port)));
    try {
      for (const raw of held) expect(await healthOver(raw)).toBe('HTTP/1.1 200 OK');
      const excess = await openSocket(capped.testGateway.port);
      excess.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await excess.closed;
      expect(excess.received(), 'no byte of an answer: no work was done').toBe('');

      held.pop()!.socket.destroy();
      // The server sees the close on its next turn; retry until the slot is free.
      let status = '';
      for (let attempt = 0; attempt < 50 && status === ''; attempt += 1) {
        const next = await openSocket(capped.testGateway.port);
        status = await Promise.race([healthOver(next), next.closed.then(() => '')]);
        if (status !== '') held.push(next);
      }
      expect(status).toBe('HTTP/1.1 200 OK');
    } finally {
      for (const raw of held) raw.socket.destroy();
    }
  });
});

describe('per-IP connection cap and trusted proxies', () => {
  it('a trusted proxy is not capped: everyone behind it shares its address', async () => {
    const proxied = await startStandardSetup({ extra: { server: { max_connections_per_ip: 2, trusted_proxies: ['127.0.0.1'] } } });
    const held: RawSocket[] = [];
    try {
      for (let index = 0; index < 4; index += 1) held.push(await openSocket(proxied.testGateway.port));
      for (const raw of held) expect(await healthOver(raw)).toBe('HTTP/1.1 200 OK');
    } finally {
      for (const raw of held) raw.socket.destroy();
      await proxied.stop();
    }
  });
});

/**
 * The raw answers (431, 408) are written to the socket outside Fastify, so no hook runs: they must
 * carry the security-headers hook's block themselves (HSTS only over TLS, none when switched off).
 */
function expectSecurityHeaders(head: string | undefined, expected: { hsts: boolean }): void {
  const lower = (head ?? '').toLowerCase();
  expect(lower).toContain('\r\nx-content-type-options: nosniff\r\n');
  expect(lower).toContain('\r\nx-frame-options: deny\r\n');
  expect(lower).toContain("\r\ncontent-security-policy: default-src 'none'; frame-ancestors 'none'\r\n");
  if (expected.hsts) expect(lower).toMatch(/\r\nstrict-transport-security: max-age=\d+; includesubdomains\r\n/);
  else expect(lower).not.toContain('strict-transport-security');
}

/** Sends a head padded to 20 KB on a raw socket and returns the answer's head and body once closed. */
async function oversizedHead(port: number, path: string): Promise<{ head: string | undefined; body: string | undefined }> {
  const raw = await openSocket(port);
  raw.socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(20 * 1024)}\r\nContent-Length: 2\r\n\r\n{}`);
  await raw.closed;
  const [head, body] = raw.received().split('\r\n\r\n');
  return { head, body };
}

describe('header limit', () => {
  it.each([
    ['/v1/messages', { type: 'error', error: { type: 'invalid_request_error' } }],
    ['/v1beta/models/gemini-test:generateContent', { error: { code: 431, status: 'INVALID_ARGUMENT' } }],
    ['/v1/chat/completions', { error: { code: 'GW_HEADERS_TOO_LARGE', type: 'invalid_request_error' } }],
  ])('a 20 KB header to %s gets 431 in the surface shape with the security headers, and the connection is closed', async (path, shape) => {
    const { head, body } = await oversizedHead(slow.testGateway.port, path);
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(head?.toLowerCase()).toContain('content-type: application/json');
    expectSecurityHeaders(head, { hsts: false });
    expect(JSON.parse(body ?? '')).toMatchObject(shape);
  });

  it('with server.security.headers.enabled false the 431 carries none of them', async () => {
    const bare = await startStandardSetup({ extra: { server: { security: { headers: { enabled: false } } } } });
    try {
      const { head } = await oversizedHead(bare.testGateway.port, '/v1/messages');
      expect(head).toMatch(/^HTTP\/1\.1 431 /);
      for (const name of ['x-content-type-options', 'x-frame-options', 'content-security-policy', 'strict-transport-security']) {
        expect(head?.toLowerCase()).not.toContain(name);
      }
    } finally {
      await bare.stop();
    }
  });
});

describe('slow clients (slowloris) are cut', () => {
  /** Writes `piece()` every 200 ms until the socket closes; returns when it closed and what it got. */
  async function trickle(raw: RawSocket, piece: (index: number) => string): Promise<number> {
    let index = 0;
    const timer = setInterval(() => {
      if (!raw.socket.destroyed) raw.socket.write(piece(index++));
    }, 200);
    try {
      return await raw.closed;
    } finally {
      clearInterval(timer);
    }
  }

  it(`a client trickling header lines is cut with 408 within the bound (headers_ms ${headersMs})`, async () => {
    const raw = await openSocket(slow.testGateway.port);
    raw.socket.write('POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const elapsed = await trickle(raw, (index) => `X-Slow-${index}: a\r\n`);
    expect(elapsed).toBeLessThan(cutWithinMs);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
    const [head, body] = raw.received().split('\r\n\r\n');
    expectSecurityHeaders(head, { hsts: false });
    // The OpenAI shape although the path is /v1/messages: Node's parser does not expose a head it is still reading (client-error.ts).
    expect(JSON.parse(body ?? '')).toMatchObject({ error: { code: 'GW_REQUEST_TIMEOUT' } });
  });

  it(`a client trickling its body is cut with 408 within the bound (request_ms ${requestMs})`, async () => {
    const raw = await openSocket(slow.testGateway.port);
    const requestHead = ['POST /v1/messages HTTP/1.1', 'Host: 127.0.0.1', 'Content-Type: application/json', 'Content-Length: 100000', `x-api-key: ${slow.testGateway.clientKey}`];
    raw.socket.write(`${requestHead.join('\r\n')}\r\n\r\n{"model":"gpt-test","messages":[`);
    const elapsed = await trickle(raw, () => ' ');
    expect(elapsed).toBeLessThan(cutWithinMs);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
    const [head, body] = raw.received().split('\r\n\r\n');
    expectSecurityHeaders(head, { hsts: false });
    // The head was complete, so the request's path picks the shape: Anthropic's here.
    expect(JSON.parse(body ?? '')).toMatchObject({ type: 'error', error: { type: 'timeout_error' } });
  });
});

describe('over TLS the same bounds hold (Node server options reach the HTTPS listener too)', () => {
  it('a 20 KB header gets 431 JSON, and a trickled head is cut with 408', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'cliproxy-guard-tls-'));
    let gateway: TestGateway | undefined;
    try {
      const authority = await createTestCertificateAuthority(directory);
      const leaf = await createTestLeafCertificate(authority, 'server');
      gateway = await startTestGateway({
        providers: {},
        extra: { server: { tls: { enabled: true, cert_file: leaf.certFile, key_file: leaf.keyFile }, timeouts: { headers_ms: headersMs, request_ms: requestMs } } },
      });
      const exchange = (head: string, trickle: boolean) =>
        new Promise<{ text: string; elapsed: number }>((resolve, reject) => {
          const started = Date.now();
          let text = '';
          const socket = tlsConnect({ port: gateway!.port, host: '127.0.0.1', ca: authority.caCert, servername: 'localhost' }, () => {
            socket.write(head);
            if (trickle) {
              let index = 0;
              const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write(`X-Slow-${index++}: a\r\n`)), 200);
              socket.once('close', () => clearInterval(timer));
            }
          });
          socket.on('data', (data: Buffer) => (text += data.toString('latin1')));
          socket.on('error', () => undefined);
          socket.once('close', () => resolve({ text, elapsed: Date.now() - started }));
          setTimeout(() => reject(new Error('no close')), cutWithinMs + 5_000).unref();
        });
      const big = await exchange(`GET /v1/models HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'a'.repeat(20 * 1024)}\r\n\r\n`, false);
      expect(big.text).toMatch(/^HTTP\/1\.1 431 /);
      expect(big.text).toContain('GW_HEADERS_TOO_LARGE');
      expectSecurityHeaders(big.text.split('\r\n\r\n')[0], { hsts: true });
      const slowHead = await exchange('GET /v1/models HTTP/1.1\r\nHost: localhost\r\n', true);
      expect(slowHead.elapsed).toBeLessThan(cutWithinMs);
      expect(slowHead.text).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await gateway?.stop();
      await rm(directory, { recursive: true, force: true });
    }
  }, 30_000);
});
