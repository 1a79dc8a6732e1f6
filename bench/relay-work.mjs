/**
 * Micro-benchmark of the per-request work a pass-through adds on top of moving bytes (issues #9
 * item 1, #10): the secret stream redactor over a relayed stream, the usage sniffing of a stream,
 * and the JSON check + usage of a relayed answer against a full parse; and (issue #12) each
 * bridge's stream transformer over a 20-chunk upstream stream of each format, translated once,
 * twice (composed bridges) or passed through. Run after `npm run build`:
 *
 *   taskset -c 0 node bench/relay-work.mjs [--dist path/to/dist] [--compare path/to/other/dist] [--rounds 15]
 *
 * `--dist` measures another build than ./dist, `--compare` a second one in the same rounds (a
 * worktree of an older commit: its `server/bridges/usage.js`, `security/secret-stream-redactor.js`
 * and, where it exists, `server/bridges/answer-scan.js`). Figures: each case's median round, in µs per stream or
 * per answer; the stream is the benchmark stub's (20 content chunks, a usage chunk, `[DONE]`, one
 * piece per event, as undici hands them to the relay); for the OpenAI pass-through of a client that
 * did not ask for usage, the same with `"usage":null` closing each content chunk.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({ options: { dist: { type: 'string', default: 'dist' }, compare: { type: 'string' }, rounds: { type: 'string', default: '15' } } });
const rounds = Number(values.rounds);
const builds = [values.dist, ...(values.compare === undefined ? [] : [values.compare])].map((dist) => path.resolve(dist));

const created = 1_700_000_000;
const model = 'bench-model';
const openaiPieces = [];
for (let index = 0; index < 20; index++) {
  const delta = index === 0 ? { role: 'assistant', content: 'token ' } : { content: 'token ' };
  const chunk = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: index === 19 ? 'stop' : null }] };
  openaiPieces.push(Buffer.from(`data: ${JSON.stringify(chunk)}\n\n`));
}
openaiPieces.push(Buffer.from(`data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model, choices: [], usage: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 } })}\n\n`));
openaiPieces.push(Buffer.from('data: [DONE]\n\n'));
// The same stream as an OpenAI upstream sends it when asked for usage (what the pass-through asks
// for a client that did not): `"usage":null` closes every content chunk.
const openaiNullUsagePieces = openaiPieces.map((piece, index) => (index < 20 ? Buffer.from(`${piece.toString('utf8').slice(0, -3)},"usage":null}\n\n`) : piece));
const event = (name, data) => Buffer.from(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
const anthropicPieces = [
  event('message_start', { type: 'message_start', message: { id: 'msg_bench', type: 'message', role: 'assistant', model, content: [], usage: { input_tokens: 12, output_tokens: 1 } } }),
  event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ...Array.from({ length: 20 }, () => event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'token ' } })),
  event('content_block_stop', { type: 'content_block_stop', index: 0 }),
  event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 20 } }),
  event('message_stop', { type: 'message_stop' }),
];
// A Responses upstream's stream (codex): created, in_progress, item and part added, 20 deltas, their done events, completed.
const responsesPieces = [];
{
  const text = 'token '.repeat(20);
  const message = { id: 'msg_bench', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] };
  const usage = { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 32 };
  const response = (status, output, used) => ({ id: 'resp_bench', object: 'response', created_at: created, status, error: null, incomplete_details: null, model, output, usage: used });
  const position = { item_id: 'msg_bench', output_index: 0, content_index: 0 };
  let sequence = 0;
  const add = (type, fields) => responsesPieces.push(event(type, { type, sequence_number: sequence++, ...fields }));
  add('response.created', { response: response('in_progress', [], null) });
  add('response.in_progress', { response: response('in_progress', [], null) });
  add('response.output_item.added', { output_index: 0, item: { ...message, status: 'in_progress', content: [] } });
  add('response.content_part.added', { ...position, part: { type: 'output_text', text: '', annotations: [] } });
  for (let index = 0; index < 20; index++) add('response.output_text.delta', { ...position, delta: 'token ', logprobs: [] });
  add('response.output_text.done', { ...position, text, logprobs: [] });
  add('response.content_part.done', { ...position, part: message.content[0] });
  add('response.output_item.done', { output_index: 0, item: message });
  add('response.completed', { response: response('completed', [message], usage) });
}
// A Gemini upstream's `?alt=sse` stream: 20 candidates with one text part each, the last with finishReason and usageMetadata.
const geminiPieces = Array.from({ length: 20 }, (_, index) => {
  const candidate = { content: { parts: [{ text: 'token ' }], role: 'model' }, index: 0, ...(index === 19 ? { finishReason: 'STOP' } : {}) };
  const usageMetadata = index === 19 ? { promptTokenCount: 12, candidatesTokenCount: 20, totalTokenCount: 32 } : undefined;
  return Buffer.from(`data: ${JSON.stringify({ candidates: [candidate], ...(usageMetadata ? { usageMetadata } : {}), modelVersion: model, responseId: 'bench' })}\r\n\r\n`);
});
const upstreamPieces = { 'openai-chat': openaiPieces, 'anthropic-messages': anthropicPieces, 'openai-responses': responsesPieces, gemini: geminiPieces };
/** Client format ← upstream format: the translated streams (one and two translations) and the pass-throughs next to them. */
const streamPairs = [
  ['anthropic-messages', 'openai-chat'],
  ['openai-responses', 'openai-chat'],
  ['openai-chat', 'anthropic-messages'],
  ['openai-chat', 'gemini'],
  ['anthropic-messages', 'gemini'],
  ['gemini', 'openai-chat'],
  ['gemini', 'anthropic-messages'],
  ['gemini', 'gemini'],
  ['openai-responses', 'openai-responses'],
  ['openai-chat', 'openai-responses'],
  ['anthropic-messages', 'openai-responses'],
  ['gemini', 'openai-responses'],
  ['openai-responses', 'gemini'],
];
const streamBodies = {
  'openai-chat': { model, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 64, stream: true, stream_options: { include_usage: true } },
  'anthropic-messages': { model, max_tokens: 64, messages: [{ role: 'user', content: 'Say hello.' }], stream: true },
  'openai-responses': { model, input: 'Say hello.', max_output_tokens: 64, store: false, stream: true },
  gemini: { contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }], generationConfig: { maxOutputTokens: 64 } },
};
const stubAnswer = Buffer.from(JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench stub.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 } }));
const fullAnswer = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'A longer answer of a few sentences. '.repeat(6), refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    service_tier: 'default',
    system_fingerprint: 'fp_bench',
  }),
);

/**
 * The cases, measured round-robin: each round times every case of every build once, so a change in
 * the machine's background load (it is shared) hits every case alike; reported is each case's
 * median round. `setup`: `run` prepares the case and returns the work to time.
 */
const cases = [];

async function addCases(dist, column) {
  const load = async (file) => import(pathToFileURL(path.join(dist, file)).href).catch(() => undefined);
  const usageModule = await load('server/bridges/usage.js');
  const redactorModule = await load('security/secret-stream-redactor.js');
  const redactModule = await load('security/redact.js');
  const answerModule = await load('server/bridges/answer-scan.js');
  const row = (work, run, count, setup = false) => cases.push({ work, column, run, count, setup, perCall: [] });
  if (usageModule?.StreamUsageSniffer) {
    const { StreamUsageSniffer } = usageModule;
    for (const [format, pieces] of [['openai-chat', openaiPieces], ['anthropic-messages', anthropicPieces]]) {
      row(`usage sniffing, ${format} stream of ${pieces.length} pieces: every piece observed`, () => {
        const sniffer = new StreamUsageSniffer(format);
        for (const piece of pieces) sniffer.observe(piece);
      }, 20_000);
      row(`usage sniffing, ${format} stream of ${pieces.length} pieces: observed and finished`, () => {
        const sniffer = new StreamUsageSniffer(format);
        for (const piece of pieces) sniffer.observe(piece);
        sniffer.finish();
      }, 20_000);
    }
  }

  if (redactorModule?.createSecretStreamRedactor && redactModule?.registerSecrets) {
    // The redactor reads the registered secrets when a stream starts: each case registers its own.
    const secretsOf = (count) => Array.from({ length: count }, (_, index) => `bench-upstream-key-${String(index).padStart(4, '0')}`);
    for (const count of [0, 1, 10, 100]) {
      row(`secret stream redactor, ${count} secrets registered, OpenAI stream of ${openaiPieces.length} pieces`, () => {
        redactModule.clearRegisteredSecrets();
        redactModule.registerSecrets(secretsOf(count));
        return () => {
        const redactor = redactorModule.createSecretStreamRedactor();
        if (redactor === undefined) return;
        for (const piece of openaiPieces) redactor.push(piece);
        redactor.flush();
        };
      }, 20_000, true);
    }
    row(`secret redaction of a whole ${fullAnswer.length}-byte JSON answer, 1 secret`, () => {
      redactModule.clearRegisteredSecrets();
      redactModule.registerSecrets(secretsOf(1));
      return () => redactorModule.redactRegisteredSecrets(fullAnswer);
    }, 50_000, true);
  }

  const registry = await load('server/bridges/registry.js');
  for (const [clientFormat, upstreamFormat] of registry === undefined ? [] : streamPairs) {
    const bridge = registry.bridgeFor(clientFormat, upstreamFormat);
    if (bridge === undefined) continue;
    const clientBody = streamBodies[clientFormat];
    const context = { requestedModel: model, upstreamModel: model, created, requestId: 'req-bench-1', stream: true, streamFraming: 'sse', clientBody };
    // The upstream body is built first, as the pipeline does (a composed bridge keeps the chat request it made).
    row(`stream ${clientFormat} ← ${upstreamFormat} (${bridge.name}), ${upstreamPieces[upstreamFormat].length} pieces: transformer push + flush`, () => {
      bridge.upstreamBody(context, Buffer.from(JSON.stringify(clientBody)), { defaultMaxTokens: 4096 });
      return () => {
        const transformer = bridge.streamTransformer(context);
        for (const piece of upstreamPieces[upstreamFormat]) transformer.push(piece);
        transformer.flush();
      };
    }, 5_000, true);
  }

  // The OpenAI pass-through for a client that did not ask for usage: the upstream was asked, so the
  // transformer takes out the usage chunk and each chunk's closing "usage":null (openai-stream-usage.ts).
  const passThrough = registry?.bridgeFor('openai-chat', 'openai-chat');
  if (passThrough !== undefined) {
    const clientBody = { model, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 64, stream: true };
    const context = { requestedModel: model, upstreamModel: model, created, requestId: 'req-bench-1', stream: true, streamFraming: 'sse', clientBody };
    row(`stream openai-chat ← openai-chat (${passThrough.name}), client did not ask for usage, ${openaiNullUsagePieces.length} pieces with "usage":null: transformer push + flush`, () => {
      return () => {
        const transformer = passThrough.streamTransformer(context);
        for (const piece of openaiNullUsagePieces) transformer.push(piece);
        transformer.flush();
      };
    }, 20_000, true);
  }

  for (const [name, body] of [['stub', stubAnswer], ['OpenAI-shaped', fullAnswer]]) {
    row(`${name} JSON answer (${body.length} bytes): full parse (toString + JSON.parse)`, () => JSON.parse(body.toString('utf8')), 50_000);
    if (answerModule?.checkRelayedAnswer) {
      row(`${name} JSON answer (${body.length} bytes): ends check + usage read back from the end`, () => {
        answerModule.checkRelayedAnswer(body);
        answerModule.usageOfRelayedAnswer('openai-chat', body);
      }, 50_000);
    }
  }
}

for (const [column, dist] of builds.entries()) await addCases(dist, column);

for (let round = -1; round < rounds; round++) {
  for (const item of cases) {
    const work = item.setup ? item.run() : item.run;
    const started = process.hrtime.bigint();
    for (let index = 0; index < item.count; index++) work();
    if (round >= 0) item.perCall.push(Number(process.hrtime.bigint() - started) / item.count / 1000); // round -1: warm-up
  }
}
const median = (values) => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)];
const works = [...new Set(cases.map((item) => item.work))];
const cell = (work, column) => {
  const item = cases.find((candidate) => candidate.work === work && candidate.column === column);
  return item === undefined ? '–' : `${median(item.perCall).toFixed(2)} µs`;
};
const rows = works.map((work) => `| ${work} | ${builds.map((_, column) => cell(work, column)).join(' | ')} |`);
process.stdout.write(
  `relay work, median of ${rounds} rounds\n\n| work | ${builds.map((dist) => path.relative(process.cwd(), dist) || dist).join(' | ')} |\n|---|${builds.map(() => '---:').join('|')}|\n${rows.join('\n')}\n`,
);
