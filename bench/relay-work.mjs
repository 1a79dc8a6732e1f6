/**
 * Micro-benchmark of the per-request work a pass-through adds on top of moving bytes (issues #9
 * item 1, #10): the secret stream redactor over a relayed stream, the usage sniffing of a stream,
 * and the JSON check + usage of a relayed answer against a full parse. Run after `npm run build`:
 *
 *   taskset -c 0 node bench/relay-work.mjs [--dist path/to/dist] [--rounds 9]
 *
 * `--dist` measures another build (a worktree of an older commit: its `server/bridges/usage.js`
 * and `security/secret-stream-redactor.js`). Figures: the median over rounds of µs per stream or
 * per answer; the stream is the benchmark stub's (20 content chunks, a usage chunk, `[DONE]`, one
 * piece per event, as undici hands them to the relay).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({ options: { dist: { type: 'string', default: 'dist' }, rounds: { type: 'string', default: '9' } } });
const dist = path.resolve(values.dist);
const load = async (file) => import(pathToFileURL(path.join(dist, file)).href).catch(() => undefined);
const usageModule = await load('server/bridges/usage.js');
const redactorModule = await load('security/secret-stream-redactor.js');
const redactModule = await load('security/redact.js');
const answerModule = await load('server/bridges/answer-scan.js');
const rounds = Number(values.rounds);

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
const event = (name, data) => Buffer.from(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
const anthropicPieces = [
  event('message_start', { type: 'message_start', message: { id: 'msg_bench', type: 'message', role: 'assistant', model, content: [], usage: { input_tokens: 12, output_tokens: 1 } } }),
  event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ...Array.from({ length: 20 }, () => event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'token ' } })),
  event('content_block_stop', { type: 'content_block_stop', index: 0 }),
  event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 20 } }),
  event('message_stop', { type: 'message_stop' }),
];
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

/** Median µs per call of `work` over `rounds` rounds of `count` calls. */
function measure(work, count) {
  for (let index = 0; index < count; index++) work(); // warm-up: optimised code only
  const perCall = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < count; index++) work();
    perCall.push(Number(process.hrtime.bigint() - started) / count / 1000);
  }
  perCall.sort((left, right) => left - right);
  return perCall[Math.floor(perCall.length / 2)];
}

const rows = [];
const row = (work, cost) => rows.push(`| ${work} | ${cost.toFixed(2)} µs |`);

if (usageModule?.StreamUsageSniffer) {
  const { StreamUsageSniffer } = usageModule;
  for (const [format, pieces] of [['openai-chat', openaiPieces], ['anthropic-messages', anthropicPieces]]) {
    row(`usage sniffing, ${format} stream of ${pieces.length} pieces: every piece observed`, measure(() => {
      const sniffer = new StreamUsageSniffer(format);
      for (const piece of pieces) sniffer.observe(piece);
    }, 20_000));
    row(`usage sniffing, ${format} stream of ${pieces.length} pieces: observed and finished`, measure(() => {
      const sniffer = new StreamUsageSniffer(format);
      for (const piece of pieces) sniffer.observe(piece);
      sniffer.finish();
    }, 20_000));
  }
}

if (redactorModule?.createSecretStreamRedactor && redactModule?.registerSecrets) {
  for (const count of [0, 1, 10, 100]) {
    redactModule.clearRegisteredSecrets();
    if (count > 0) redactModule.registerSecrets(Array.from({ length: count }, (_, index) => `bench-upstream-key-${String(index).padStart(4, '0')}`));
    row(`secret stream redactor, ${count} secrets registered, OpenAI stream of ${openaiPieces.length} pieces`, measure(() => {
      const redactor = redactorModule.createSecretStreamRedactor();
      if (redactor === undefined) return;
      for (const piece of openaiPieces) redactor.push(piece);
      redactor.flush();
    }, 20_000));
  }
  redactModule.registerSecrets(['bench-upstream-key-0001']);
  row(`secret redaction of a whole ${fullAnswer.length}-byte JSON answer, 1 secret`, measure(() => redactorModule.redactRegisteredSecrets(fullAnswer), 50_000));
}

for (const [name, body] of [['stub', stubAnswer], ['OpenAI-shaped', fullAnswer]]) {
  row(`${name} JSON answer (${body.length} bytes): full parse (toString + JSON.parse)`, measure(() => JSON.parse(body.toString('utf8')), 50_000));
  if (answerModule?.checkRelayedAnswer) {
    row(`${name} JSON answer (${body.length} bytes): ends check + usage read back from the end`, measure(() => {
      answerModule.checkRelayedAnswer(body);
      answerModule.usageOfRelayedAnswer('openai-chat', body);
    }, 50_000));
  }
}

process.stdout.write(`relay work of ${dist} (median of ${rounds} rounds)\n\n| work | cost |\n|---|---:|\n${rows.join('\n')}\n`);
