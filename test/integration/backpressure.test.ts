import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { rawPost } from '../helpers/http.js';

/**
 * A slow client must slow the upstream read, not grow a buffer in the gateway. The stub below
 * writes a 64 MiB OpenAI SSE stream as fast as TCP lets it and counts the bytes the kernel
 * accepted; the client reads the response headers and then stops reading. If the gateway
 * buffered, the stub would push all 64 MiB within a second; with backpressure it stalls once
 * the socket buffers on both hops are full (a few MiB on loopback).
 */
const totalBytes = 64 * 1024 * 1024;
const chunkText = `data: ${JSON.stringify({
  id: 'chatcmpl-bp',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-bp',
  choices: [{ index: 0, delta: { content: 'x'.repeat(16_000) }, finish_reason: null }],
})}\n\n`;
const chunk = Buffer.from(chunkText);
const finalText = 'data: {"id":"chatcmpl-bp","object":"chat.completion.chunk","created":1,"model":"gpt-bp","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';

interface FloodStub {
  server: Server;
  port: number;
  sentBytes: () => number;
}

async function startFloodStub(): Promise<FloodStub> {
  let sent = 0;
  const pump = (response: ServerResponse) => {
    while (sent < totalBytes) {
      sent += chunk.length;
      if (!response.write(chunk)) {
        response.once('drain', () => pump(response));
        return;
      }
    }
    response.end(finalText);
  };
  const server = createServer((request, response) => {
    request.resume();
    request.once('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      pump(response);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, sentBytes: () => sent };
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe('streaming backpressure', () => {
  let stub: FloodStub;
  let gateway: TestGateway;

  beforeAll(async () => {
    stub = await startFloodStub();
    gateway = await startTestGateway({
      providers: {
        flood: { type: 'openai', base_url: `http://127.0.0.1:${stub.port}/v1`, api_keys: ['test-upstream-key-flood'], models: [{ name: 'gpt-bp' }] },
      },
      extra: { upstream: { idle_timeout_ms: 20_000 } },
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    stub?.server.closeAllConnections();
    stub?.server.close();
  });

  it('stops reading the upstream while the client does not read, then delivers everything', async () => {
    const socket = rawPost(gateway, '/v1/chat/completions', JSON.stringify({ model: 'gpt-bp', stream: true, messages: [{ role: 'user', content: 'flood' }] }));
    // Read only the first piece (the headers), then stop reading altogether.
    const [first] = (await once(socket, 'data')) as [Buffer];
    expect(first.toString('latin1')).toMatch(/^HTTP\/1\.1 200/);
    socket.pause();
    await sleep(1_500);
    const sentWhilePaused = stub.sentBytes();
    await sleep(500);
    // Stalled: the upstream is blocked, far below the 64 MiB it has to send.
    expect(stub.sentBytes()).toBe(sentWhilePaused);
    expect(sentWhilePaused).toBeLessThan(totalBytes / 4);

    // Resume: every byte arrives and the stream ends properly.
    let received = first.length;
    let tail = '';
    socket.on('data', (piece: Buffer) => {
      received += piece.length;
      tail = (tail + piece.toString('latin1')).slice(-64);
    });
    socket.resume();
    await once(socket, 'end');
    expect(received).toBeGreaterThan(totalBytes);
    expect(tail).toContain('data: [DONE]');
    expect(stub.sentBytes()).toBeGreaterThanOrEqual(totalBytes);
  }, 30_000);
});
