import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { rawPost } from '../helpers/http.js';

/**
 * The relay writes the pieces of one upstream read as one HTTP chunk (stream-relay.ts), and holds
 * nothing back for later reads: a piece the upstream sends on its own reaches the client while the
 * upstream still waits. The stub sends five events in one write, then the sixth only once the
 * client has seen the first five — so a relay that waited for more data would never finish.
 */
const event = (index: number, extra = ''): string =>
  `data: ${JSON.stringify({ id: 'chatcmpl-co', object: 'chat.completion.chunk', created: 1, model: 'gpt-co', choices: [{ index: 0, delta: { content: `piece-${index}${extra}` }, finish_reason: null }] })}\n\n`;
const finalEvents = 'data: {"id":"chatcmpl-co","object":"chat.completion.chunk","created":1,"model":"gpt-co","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';

let releaseSixth: () => void = () => undefined;

function startStub(): Promise<Server> {
  const server = createServer((request, response: ServerResponse) => {
    request.resume();
    request.once('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      // Five HTTP chunks in one TCP write: one read on the gateway's side.
      response.cork();
      for (let index = 1; index <= 5; index++) response.write(event(index, ' ü'));
      response.uncork();
      releaseSixth = () => {
        response.write(event(6));
        response.end(finalEvents);
      };
    });
  });
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => server);
}

/** The body of a chunked HTTP/1.1 answer read so far, as its chunks (complete ones only). */
function chunksOf(raw: Buffer): string[] {
  const text = raw.toString('latin1');
  let at = text.indexOf('\r\n\r\n') + 4;
  const chunks: string[] = [];
  while (at > 3 && at < text.length) {
    const lineEnd = text.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = Number.parseInt(text.slice(at, lineEnd), 16);
    if (size === 0 || lineEnd + 2 + size > raw.length) break;
    chunks.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8'));
    at = lineEnd + 2 + size + 2;
  }
  return chunks;
}

describe('stream relay coalescing', () => {
  let stub: Server;
  let gateway: TestGateway;

  beforeAll(async () => {
    stub = await startStub();
    gateway = await startTestGateway({
      providers: {
        co: { type: 'openai', base_url: `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1`, api_keys: ['test-upstream-key-co'], models: [{ name: 'gpt-co' }] },
      },
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    stub?.closeAllConnections();
    stub?.close();
  });

  it('writes the pieces of one upstream read as one chunk, and a later piece at once, on its own', async () => {
    const body = JSON.stringify({ model: 'gpt-co', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const socket = rawPost(gateway, '/v1/chat/completions', body);
    let raw = Buffer.alloc(0);
    const until = async (done: () => boolean): Promise<void> => {
      while (!done()) raw = Buffer.concat([raw, ((await once(socket, 'data')) as [Buffer])[0]]);
    };
    await until(() => chunksOf(raw).some((chunk) => chunk.includes('piece-5')));
    const [first] = chunksOf(raw);
    expect(raw.toString('latin1')).toMatch(/^HTTP\/1\.1 200/);
    // All five events of the one read in the first chunk, whole and in order (the two-byte ü intact).
    expect(first?.match(/piece-\d ü/g)).toEqual(['piece-1 ü', 'piece-2 ü', 'piece-3 ü', 'piece-4 ü', 'piece-5 ü']);
    releaseSixth();
    const ended = once(socket, 'end');
    socket.on('data', (piece: Buffer) => (raw = Buffer.concat([raw, piece])));
    await ended;
    const chunks = chunksOf(raw);
    expect(chunks.join('')).toContain('piece-6');
    expect(chunks.join('').trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(chunks[0]).toBe(first);
  }, 20_000);
});
