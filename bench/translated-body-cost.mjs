/**
 * What a translated request body costs before any HTTP or layer work: each step the gateway must
 * take on a client body it translates, measured alone on the same bytes. Run after `npm run build`:
 *
 *   node bench/translated-body-cost.mjs      # steadier pinned: taskset -c 0 node bench/translated-body-cost.mjs
 *
 * The steps are the request path's, in order (docs/architecture.md): the body as text and
 * `JSON.parse`, the structure scan (duplicate keys and depth, hooks/json-scan.ts), the route's
 * compiled schema check, the translation to an OpenAI chat request, and `JSON.stringify` of it plus
 * its UTF-8 bytes (what undici sends). The sum is the least CPU the gateway spends on the body;
 * docs/benchmarks.md compares it with the floor's CPU per request for the same body, measured by
 * `bench/run.mjs --scenario anthropic-structured100k-c32`.
 */
import { scanJsonStructure } from '../dist/server/hooks/json-scan.js';
import { compileBodyValidator } from '../dist/server/validate-body.js';
import { AnthropicMessagesRequest } from '../dist/formats/anthropic/messages-request.js';
import { translateAnthropicRequestToOpenAI } from '../dist/translate/anthropic-to-openai/request.js';
import { bodies } from './lib/scenarios.mjs';

const validate = compileBodyValidator(AnthropicMessagesRequest);
const translateOptions = { upstreamModel: 'bench-model', digestUserId: (userId) => userId };

const bytes = Buffer.from(JSON.stringify(bodies['anthropic-structured-100k']));
const parsed = JSON.parse(bytes.toString('utf8'));
const translated = translateAnthropicRequestToOpenAI(parsed, translateOptions);
const upstreamText = JSON.stringify(translated);

/** @type {Array<[string, () => unknown]>} */
const steps = [
  ['body as text + JSON.parse', () => JSON.parse(bytes.toString('utf8'))],
  ['structure scan (duplicate keys, depth)', () => scanJsonStructure(bytes, 128, { constructorKey: false })],
  ['schema check (compiled TypeBox)', () => validate(parsed)],
  ['translation to an OpenAI chat request', () => translateAnthropicRequestToOpenAI(parsed, translateOptions)],
  ['JSON.stringify of the translation', () => JSON.stringify(translated)],
  ['its UTF-8 bytes', () => Buffer.from(upstreamText, 'utf8')],
];

/** Median µs per call over 7 rounds, after a warm-up round. Results go to a module variable, so no call is optimised away. */
let sink; // eslint-disable-line no-unused-vars
function measure(run) {
  const iterations = 2_000;
  for (let index = 0; index < iterations; index += 1) sink = run();
  const rounds = [];
  for (let round = 0; round < 7; round += 1) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < iterations; index += 1) sink = run();
    rounds.push(Number(process.hrtime.bigint() - started) / 1_000 / iterations);
  }
  rounds.sort((left, right) => left - right);
  return rounds[3];
}

console.log(`Body: the anthropic-structured-100k bench body, ${bytes.length} bytes; translated: ${Buffer.byteLength(upstreamText)} bytes.\n`);
console.log('| step | µs per request (median of 7 rounds) |');
console.log('|---|---:|');
let total = 0;
for (const [name, run] of steps) {
  const microseconds = measure(run);
  total += microseconds;
  console.log(`| ${name} | ${microseconds.toFixed(1)} |`);
}
console.log(`| **sum** | **${total.toFixed(1)}** |`);
