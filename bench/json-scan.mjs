/**
 * Micro-benchmark of the body parser's structure scan (duplicate keys, nesting depth) against
 * `JSON.parse` on the same bytes. Run after `npm run build`:
 *
 *   node bench/json-scan.mjs            # pin it for steadier numbers: taskset -c 0 node bench/json-scan.mjs
 *
 * Bodies: the benchmark's small chat body, its ~100 KB body (one long message text), and a ~100 KB
 * body made of many small objects (a long agent conversation with tool calls and tool schemas), the
 * scan's worst realistic case because every key is decoded and compared.
 */
import { scanJsonStructure } from '../dist/server/hooks/json-scan.js';
import { bodies } from './lib/scenarios.mjs';

function structuredBody() {
  const properties = {};
  for (let index = 0; index < 12; index += 1) properties[`field_${index}`] = { type: 'string', description: `Field number ${index} of the tool input.` };
  const tools = Array.from({ length: 20 }, (_, index) => ({
    name: `tool_${index}`,
    description: 'Does one thing well.',
    input_schema: { type: 'object', properties, required: ['field_0'] },
  }));
  const messages = [];
  for (let turn = 0; messages.length < 400; turn += 1) {
    messages.push({ role: 'user', content: [{ type: 'text', text: `Step ${turn}: please continue with the next file.` }] });
    messages.push({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Reading it now.' },
        { type: 'tool_use', id: `toolu_${turn}`, name: 'tool_1', input: { field_0: `src/file-${turn}.ts`, field_1: 'utf8' } },
      ],
    });
  }
  let body = { model: 'bench-model', max_tokens: 1024, system: 'You are a coding agent.', tools, messages };
  while (JSON.stringify(body).length > 100 * 1024) body = { ...body, messages: body.messages.slice(0, -2) };
  return body;
}

const cases = [
  ['small chat body', Buffer.from(JSON.stringify(bodies['openai-chat']))],
  ['100 KB bench body (one long text)', Buffer.from(JSON.stringify(bodies['openai-chat-100k']))],
  ['100 KB agent body (many small objects)', Buffer.from(JSON.stringify(structuredBody()))],
];

/** Median µs per call over `rounds` rounds, each long enough to be measured. */
function measure(run, bytes) {
  const iterations = Math.max(50, Math.floor(4_000_000 / bytes.length));
  for (let index = 0; index < iterations; index += 1) run(); // warm up
  const rounds = [];
  for (let round = 0; round < 7; round += 1) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < iterations; index += 1) run();
    rounds.push(Number(process.hrtime.bigint() - started) / 1_000 / iterations);
  }
  rounds.sort((left, right) => left - right);
  return rounds[3];
}

console.log('| body | bytes | JSON.parse µs | scan µs | scan / parse |');
console.log('|---|---|---|---|---|');
for (const [name, bytes] of cases) {
  if (scanJsonStructure(bytes, 128) !== undefined) throw new Error(`${name}: the scan refused a valid body`);
  const parse = measure(() => JSON.parse(bytes.toString('utf8')), bytes);
  const scan = measure(() => scanJsonStructure(bytes, 128), bytes);
  console.log(`| ${name} | ${bytes.length} | ${parse.toFixed(2)} | ${scan.toFixed(2)} | ${(scan / parse).toFixed(2)} |`);
}
