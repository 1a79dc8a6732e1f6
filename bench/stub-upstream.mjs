#!/usr/bin/env node
/**
 * Stub LLM upstream for the benchmark: answers OpenAI `POST …/chat/completions`, Anthropic
 * `POST …/messages` and Responses `POST …/responses`, as JSON or as SSE when the body says
 * `"stream":true`, and Gemini `POST …/models/{model}:generateContent` (JSON) and
 * `:streamGenerateContent` (SSE).
 *
 * It must never be the bottleneck, so it is a raw node:http server (no framework), every response
 * body is precomputed at startup, and the request body is only scanned for the bytes `"stream":true`
 * (never JSON.parse'd: a 100 KB body would cost the stub ~0.5 ms of CPU per request).
 *
 * Options (flags win over env):
 *   --port N            BENCH_STUB_PORT           listen port, 0 = any free port (default 0)
 *   --delay-ms N        BENCH_STUB_DELAY_MS       wait before the response headers (default 0)
 *   --chunks N          BENCH_STUB_CHUNKS         content chunks per SSE stream (default 20)
 *   --chunk-delay-ms N  BENCH_STUB_CHUNK_DELAY_MS pause between SSE chunks; 0 writes them back to back
 *                                                 (default 0). The first chunk is always sent at once,
 *                                                 so a client can measure time to first byte.
 *   --stamp             BENCH_STUB_STAMP=1        the first streamed content is `stamp:<ms>`, the wall
 *                                                 clock (ms, µs precision) when the stub wrote it, so
 *                                                 the client measures how long the chunk spent in the
 *                                                 proxy (same host, same clock)
 * On listening it prints one JSON line to stdout: {"listening":PORT}.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'delay-ms': { type: 'string' },
    chunks: { type: 'string' },
    'chunk-delay-ms': { type: 'string' },
    stamp: { type: 'boolean' },
  },
});

const port = Number(values.port ?? process.env.BENCH_STUB_PORT ?? 0);
const delayMs = Number(values['delay-ms'] ?? process.env.BENCH_STUB_DELAY_MS ?? 0);
const chunkCount = Math.max(1, Number(values.chunks ?? process.env.BENCH_STUB_CHUNKS ?? 20));
const chunkDelayMs = Number(values['chunk-delay-ms'] ?? process.env.BENCH_STUB_CHUNK_DELAY_MS ?? 0);
const stamp = values.stamp ?? process.env.BENCH_STUB_STAMP === '1';

const model = 'bench-model';
const created = Math.floor(Date.now() / 1000);
const token = 'tok ';

/** @param {unknown} value */
const json = (value) => Buffer.from(JSON.stringify(value));

const openaiJson = json({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench stub.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
});

/** OpenAI SSE: N content chunks (first carries the role, last the finish_reason), a usage chunk, [DONE]. */
const openaiChunks = [];
for (let index = 0; index < chunkCount; index++) {
  const delta = index === 0 ? { role: 'assistant', content: token } : { content: token };
  const finish = index === chunkCount - 1 ? 'stop' : null;
  const chunk = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] };
  openaiChunks.push(Buffer.from(`data: ${JSON.stringify(chunk)}\n\n`));
}
openaiChunks.push(
  Buffer.from(
    `data: ${JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [],
      usage: { prompt_tokens: 12, completion_tokens: chunkCount, total_tokens: 12 + chunkCount },
    })}\n\n`,
  ),
);
openaiChunks.push(Buffer.from('data: [DONE]\n\n'));

const anthropicJson = json({
  id: 'msg_bench',
  type: 'message',
  role: 'assistant',
  model,
  content: [{ type: 'text', text: 'Hello from the bench stub.' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 12, output_tokens: 6 },
});

/** @param {string} name @param {unknown} data */
const event = (name, data) => Buffer.from(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);

/** Anthropic SSE: message_start, content_block_start, ping, N deltas, block stop, message_delta, message_stop. */
const anthropicChunks = [
  event('message_start', {
    type: 'message_start',
    message: { id: 'msg_bench', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } },
  }),
  event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  event('ping', { type: 'ping' }),
];
for (let index = 0; index < chunkCount; index++) {
  anthropicChunks.push(event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: token } }));
}
anthropicChunks.push(
  event('content_block_stop', { type: 'content_block_stop', index: 0 }),
  event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: chunkCount } }),
  event('message_stop', { type: 'message_stop' }),
);

/**
 * A Responses upstream (the `codex` provider type): the response object, and the typed event
 * stream a Responses API answers with (created, in_progress, item added, part added, N text deltas,
 * their done events, item done, completed with the whole output and usage).
 */
const responsesText = token.repeat(chunkCount);
const responsesMessage = { id: 'msg_bench', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: responsesText, annotations: [] }] };
const responsesObject = (status, output, usage) => ({ id: 'resp_bench', object: 'response', created_at: created, status, error: null, incomplete_details: null, model, output, usage });
const responsesUsage = { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: chunkCount, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 12 + chunkCount };
const responsesJson = json(responsesObject('completed', [responsesMessage], responsesUsage));
const responsesChunks = [];
{
  let sequence = 0;
  const responsesEvent = (type, fields) => responsesChunks.push(event(type, { type, sequence_number: sequence++, ...fields }));
  const position = { item_id: 'msg_bench', output_index: 0, content_index: 0 };
  responsesEvent('response.created', { response: responsesObject('in_progress', [], null) });
  responsesEvent('response.in_progress', { response: responsesObject('in_progress', [], null) });
  responsesEvent('response.output_item.added', { output_index: 0, item: { ...responsesMessage, status: 'in_progress', content: [] } });
  responsesEvent('response.content_part.added', { ...position, part: { type: 'output_text', text: '', annotations: [] } });
  for (let index = 0; index < chunkCount; index++) responsesEvent('response.output_text.delta', { ...position, delta: token, logprobs: [] });
  responsesEvent('response.output_text.done', { ...position, text: responsesText, logprobs: [] });
  responsesEvent('response.content_part.done', { ...position, part: responsesMessage.content[0] });
  responsesEvent('response.output_item.done', { output_index: 0, item: responsesMessage });
  responsesEvent('response.completed', { response: responsesObject('completed', [responsesMessage], responsesUsage) });
}

/**
 * A Gemini upstream (the `gemini` provider type, Gemini API): `generateContent` answers one JSON
 * candidate; `streamGenerateContent?alt=sse` answers N `data:` chunks of one text part each (Google
 * ends its events with CRLF CRLF), the last with finishReason and usageMetadata.
 */
const geminiJson = json({
  candidates: [{ content: { parts: [{ text: 'Hello from the bench stub.' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 6, totalTokenCount: 18 },
  modelVersion: model,
  responseId: 'bench',
});
const geminiChunks = [];
for (let index = 0; index < chunkCount; index++) {
  const last = index === chunkCount - 1;
  const candidate = { content: { parts: [{ text: token }], role: 'model' }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) };
  const usageMetadata = last ? { promptTokenCount: 12, candidatesTokenCount: chunkCount, totalTokenCount: 12 + chunkCount } : undefined;
  geminiChunks.push(Buffer.from(`data: ${JSON.stringify({ candidates: [candidate], ...(usageMetadata ? { usageMetadata } : {}), modelVersion: model, responseId: 'bench' })}\r\n\r\n`));
}

const modelsJson = json({ object: 'list', data: [{ id: model, object: 'model', created, owned_by: 'bench' }] });
const notFoundJson = json({ error: { message: 'not found', type: 'invalid_request_error', code: 'not_found' } });

const jsonHeaders = (length) => ({ 'content-type': 'application/json', 'content-length': String(length) });
const sseHeaders = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

const streamMarker = Buffer.from('"stream":true');
const streamMarkerSpaced = Buffer.from('"stream": true');

/** @param {Buffer} body */
function wantsStream(body) {
  return body.indexOf(streamMarker) !== -1 || body.indexOf(streamMarkerSpaced) !== -1;
}

/** @param {http.ServerResponse} response @param {Buffer} body */
function sendJson(response, status, body) {
  response.writeHead(status, jsonHeaders(body.length));
  response.end(body);
}

/** Wall clock in ms with µs precision, comparable between processes on one host. */
const wallClockMs = () => (performance.timeOrigin + performance.now()).toFixed(3);

/** The first content chunk, stamped with the time it is written (only with --stamp). */
const stampedFirstChunk = {
  openai: () =>
    Buffer.from(
      `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { role: 'assistant', content: `stamp:${wallClockMs()} ` }, finish_reason: null }] })}\n\n`,
    ),
  anthropic: () => event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `stamp:${wallClockMs()} ` } }),
  responses: () => event('response.output_text.delta', { type: 'response.output_text.delta', sequence_number: 4, item_id: 'msg_bench', output_index: 0, content_index: 0, delta: `stamp:${wallClockMs()} ` }),
};

/**
 * @param {http.ServerResponse} response @param {Buffer[]} chunks
 * @param {'openai' | 'anthropic' | 'responses' | 'gemini'} format
 */
function sendStream(response, chunks, format) {
  response.writeHead(200, sseHeaders);
  // Only the stream-client scenarios stamp, and they are OpenAI's; a Gemini stream is never stamped.
  if (stamp && format !== 'gemini') {
    // Anthropic: the stamp replaces the first text delta (index 3, after message_start, block start, ping).
    // Responses: it replaces the first output_text delta (index 4). Only the stream-client scenarios stamp, and they are OpenAI's.
    const stampIndex = format === 'openai' ? 0 : format === 'responses' ? 4 : 3;
    chunks = chunks.slice();
    if (stampIndex > 0) for (let index = 0; index < stampIndex; index++) response.write(chunks[index]);
    chunks[stampIndex] = stampedFirstChunk[format]();
    chunks = chunks.slice(stampIndex);
  }
  if (chunkDelayMs <= 0) {
    for (const chunk of chunks) response.write(chunk);
    response.end();
    return;
  }
  let next = 0;
  const writeNext = () => {
    if (response.destroyed) return;
    response.write(chunks[next++]);
    if (next >= chunks.length) response.end();
    else setTimeout(writeNext, chunkDelayMs);
  };
  writeNext();
}

/** @param {http.IncomingMessage} request @param {http.ServerResponse} response @param {Buffer} body */
function answer(request, response, body) {
  const url = request.url ?? '';
  if (request.method === 'POST' && url.endsWith('/chat/completions')) {
    return wantsStream(body) ? sendStream(response, openaiChunks, 'openai') : sendJson(response, 200, openaiJson);
  }
  if (request.method === 'POST' && url.endsWith('/messages')) {
    return wantsStream(body) ? sendStream(response, anthropicChunks, 'anthropic') : sendJson(response, 200, anthropicJson);
  }
  if (request.method === 'POST' && url.endsWith('/responses')) {
    return wantsStream(body) ? sendStream(response, responsesChunks, 'responses') : sendJson(response, 200, responsesJson);
  }
  // Gemini says "stream" by method, not in the body; the model is in the path (any model answers).
  if (request.method === 'POST' && url.includes(':streamGenerateContent')) return sendStream(response, geminiChunks, 'gemini');
  if (request.method === 'POST' && url.includes(':generateContent')) return sendJson(response, 200, geminiJson);
  if (request.method === 'GET' && url.endsWith('/models')) return sendJson(response, 200, modelsJson);
  return sendJson(response, 404, notFoundJson);
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
  /** @type {Buffer[]} */
  const pieces = [];
  request.on('data', (piece) => pieces.push(piece));
  request.on('end', () => {
    const body = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
    if (delayMs > 0) setTimeout(() => answer(request, response, body), delayMs);
    else answer(request, response, body);
  });
});
server.maxRequestsPerSocket = 0;
server.headersTimeout = 60_000;
server.requestTimeout = 0;

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ listening: typeof address === 'object' && address ? address.port : port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
