/**
 * The benchmark's scenarios and their request bodies. A scenario fixes the client wire format, the
 * body, the connection count and how a correct answer is recognised; the targets it runs against
 * are chosen by run.mjs.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** Model name the stub answers with and the proxy config routes to the stub provider. */
export const benchModel = 'bench-model';

/** Model name the proxy config routes to the stub as a `codex` (Responses) provider: Responses clients pass through. */
export const benchCodexModel = 'bench-codex-model';

/** Model names the proxy config routes to the stub as a `gemini` and an `anthropic` provider (builds with the gemini type). */
export const benchGeminiModel = 'bench-gemini-model';
export const benchAnthropicModel = 'bench-anthropic-model';

const shortMessages = [{ role: 'user', content: 'Say hello.' }];

/**
 * ~100 KB of prose-like text (words of varying length, JSON-safe), so a parser does real work and no
 * compression-friendly repetition of one character makes it cheap.
 * @param {number} bytes
 */
function filler(bytes) {
  const words = ['context', 'proxy', 'gateway', 'token', 'stream', 'upstream', 'a', 'of', 'benchmark', 'request', 'the', 'latency', 'security'];
  const parts = [];
  let length = 0;
  for (let index = 0; length < bytes; index++) {
    const word = words[(index * 7 + (index >> 3)) % words.length];
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ').slice(0, bytes);
}

/**
 * Tool definitions shaped like Claude Code's (Bash, Read, Edit, Grep, … with JSON Schema inputs of a
 * few typed, described properties each), `count` of them, as OpenAI function tools or Anthropic tools.
 * @param {number} count @param {'openai' | 'anthropic'} format
 */
function toolDefinitions(count, format) {
  const names = ['Bash', 'Read', 'Edit', 'Write', 'Grep', 'Glob', 'WebFetch', 'TodoWrite', 'Task', 'NotebookEdit'];
  return Array.from({ length: count }, (_, index) => {
    const name = `${names[index % names.length]}${index < names.length ? '' : index}`;
    const schema = {
      type: 'object',
      properties: {
        path: { type: 'string', description: `The absolute path the ${name} tool works on (${filler(60)})` },
        pattern: { type: 'string', description: `What ${name} looks for; a regular expression (${filler(40)})` },
        limit: { type: 'integer', minimum: 1, description: 'How many lines or results at most' },
        options: {
          type: 'object',
          properties: { recursive: { type: 'boolean' }, mode: { type: 'string', enum: ['content', 'files', 'count'] } },
          additionalProperties: false,
        },
      },
      required: ['path'],
      additionalProperties: false,
    };
    const description = `${name}: ${filler(700)}`;
    return format === 'openai' ? { type: 'function', function: { name, description, parameters: schema } } : { name, description, input_schema: schema };
  });
}

/**
 * A Claude Code-like conversation (test/fixtures/clients/claude-code-request.json is the real
 * shape): a system prompt in parts, then turns of user text, assistant tool calls and tool results,
 * `turns` times, as OpenAI chat messages or Anthropic messages.
 * @param {number} turns @param {'openai' | 'anthropic'} format
 */
function codingSession(turns, format) {
  const messages = [];
  for (let turn = 0; turn < turns; turn++) {
    const callId = `call_${String(turn).padStart(6, '0')}`;
    const command = `grep -rn "${filler(20)}" src/ | head -${turn + 5}`;
    const output = filler(400 + (turn % 5) * 60);
    if (format === 'openai') {
      messages.push({ role: 'user', content: [{ type: 'text', text: `<system-reminder>${filler(80)}</system-reminder>` }, { type: 'text', text: filler(120) }] });
      messages.push({ role: 'assistant', content: filler(90), tool_calls: [{ id: callId, type: 'function', function: { name: 'Bash', arguments: JSON.stringify({ command }) } }] });
      messages.push({ role: 'tool', tool_call_id: callId, content: output });
    } else {
      messages.push({ role: 'user', content: [{ type: 'text', text: `<system-reminder>${filler(80)}</system-reminder>` }, { type: 'text', text: filler(120) }] });
      messages.push({ role: 'assistant', content: [{ type: 'text', text: filler(90) }, { type: 'tool_use', id: `toolu_${callId}`, name: 'Bash', input: { command } }] });
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${callId}`, content: output }] });
    }
  }
  messages.push({ role: 'user', content: 'Now fix the failing test.' });
  return messages;
}

const systemPrompt = `You are an agent working with the user toward their goals. ${filler(6000)}`;

/** Request bodies by name. Every body is valid for both the strict client schemas and the stub. */
export const bodies = {
  'openai-chat': { model: benchModel, messages: shortMessages, max_tokens: 64 },
  'openai-stream': { model: benchModel, messages: shortMessages, max_tokens: 64, stream: true, stream_options: { include_usage: true } },
  'openai-chat-100k': {
    model: benchModel,
    messages: [
      { role: 'system', content: 'You summarise documents.' },
      { role: 'user', content: filler(100 * 1024) },
    ],
    max_tokens: 64,
  },
  // ~100 KB in many small parts (issue 11): 20 tools, ~58 turns of text, tool calls and results.
  'openai-structured-100k': {
    model: benchModel,
    messages: [{ role: 'system', content: systemPrompt }, ...codingSession(58, 'openai')],
    tools: toolDefinitions(20, 'openai'),
    max_tokens: 64,
  },
  'anthropic-structured-100k': {
    model: benchModel,
    system: [{ type: 'text', text: systemPrompt, cache_control: { type: 'ephemeral' } }],
    messages: codingSession(58, 'anthropic'),
    tools: toolDefinitions(20, 'anthropic'),
    max_tokens: 64,
  },
  'anthropic-json': { model: benchModel, max_tokens: 64, messages: shortMessages },
  'anthropic-stream': { model: benchModel, max_tokens: 64, messages: shortMessages, stream: true },
  // OpenAI Responses (Codex CLI's API): translated to the OpenAI chat stub, or passed through to the stub as a codex provider.
  'responses-json': { model: benchModel, input: 'Say hello.', max_output_tokens: 64, store: false },
  'responses-stream': { model: benchModel, input: 'Say hello.', max_output_tokens: 64, store: false, stream: true },
  'responses-codex-json': { model: benchCodexModel, input: 'Say hello.', max_output_tokens: 64, store: false },
  'responses-codex-stream': { model: benchCodexModel, input: 'Say hello.', max_output_tokens: 64, store: false, stream: true },
  // Gemini clients (the model and "stream" are in the path, scenario.path) and the chained translations (two bridges composed).
  'gemini-request': { contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }], generationConfig: { maxOutputTokens: 64 } },
  'anthropic-codex-json': { model: benchCodexModel, max_tokens: 64, messages: shortMessages },
  'anthropic-codex-stream': { model: benchCodexModel, max_tokens: 64, messages: shortMessages, stream: true },
  'responses-gemini-json': { model: benchGeminiModel, input: 'Say hello.', max_output_tokens: 64, store: false },
  'responses-gemini-stream': { model: benchGeminiModel, input: 'Say hello.', max_output_tokens: 64, store: false, stream: true },
};

/**
 * Writes every body to `directory` once (wrk reads its body from a file).
 * @param {string} directory
 * @returns {Record<string, string>} body name → file path
 */
export function writeBodies(directory) {
  /** @type {Record<string, string>} */
  const files = {};
  for (const [name, body] of Object.entries(bodies)) {
    const file = path.join(directory, `${name}.json`);
    writeFileSync(file, JSON.stringify(body));
    files[name] = file;
  }
  return files;
}

/**
 * @typedef {object} Scenario
 * @property {string} name
 * @property {string} description
 * @property {'openai' | 'anthropic' | 'responses' | 'gemini'} clientFormat  which endpoint the client calls
 * @property {string} [path]       the request path when the format's default is not it (Gemini: model and method)
 * @property {boolean} [gemini]    needs the gemini and anthropic providers (a build with the gemini provider type)
 * @property {boolean} [named]     run only when named with --scenario (keeps the full run's length; see docs/benchmarks.md)
 * @property {keyof typeof bodies} body
 * @property {number} connections
 * @property {string} expect       substring of a correct response body (the sanity check before measuring)
 * @property {boolean} [layerMatrix] also run the proxy with each security layer off, one at a time
 * @property {boolean} [quick]     part of `--quick`
 * @property {boolean} [rewriteFloor] also measure `floor-rewrite`, the floor that parses and rewrites the body
 */

/** @type {Scenario[]} */
export const throughputScenarios = [
  { name: 'chat-c1', description: 'OpenAI chat, non-streaming, 1 connection', clientFormat: 'openai', body: 'openai-chat', connections: 1, expect: '"choices"' },
  {
    name: 'chat-c32',
    description: 'OpenAI chat, non-streaming, 32 connections (+ layer matrix)',
    clientFormat: 'openai',
    body: 'openai-chat',
    connections: 32,
    expect: '"choices"',
    layerMatrix: true,
    quick: true,
  },
  { name: 'chat-c64', description: 'OpenAI chat, non-streaming, 64 connections', clientFormat: 'openai', body: 'openai-chat', connections: 64, expect: '"choices"' },
  { name: 'stream-c32', description: 'OpenAI chat, streaming 20 chunks, 32 connections', clientFormat: 'openai', body: 'openai-stream', connections: 32, expect: '[DONE]', quick: true },
  { name: 'body100k-c32', description: 'OpenAI chat, ~100 KB request body, 32 connections', clientFormat: 'openai', body: 'openai-chat-100k', connections: 32, expect: '"choices"' },
  {
    name: 'structured100k-c32',
    description: 'OpenAI chat, ~100 KB body in many parts (20 tools, ~175 messages, shaped like a Claude Code session), 32 connections',
    clientFormat: 'openai',
    body: 'openai-structured-100k',
    connections: 32,
    expect: '"choices"',
  },
  {
    name: 'anthropic-json-c32',
    description: 'Anthropic client, non-streaming, 32 connections (proxy translates to the OpenAI upstream)',
    clientFormat: 'anthropic',
    body: 'anthropic-json',
    connections: 32,
    expect: '"content"',
    quick: true,
  },
  {
    name: 'anthropic-structured100k-c32',
    description: 'Anthropic client, ~100 KB Claude Code-like body (20 tools, ~175 messages), 32 connections (proxy translates)',
    clientFormat: 'anthropic',
    body: 'anthropic-structured-100k',
    connections: 32,
    expect: '"content"',
    rewriteFloor: true,
  },
  {
    name: 'anthropic-stream-c32',
    description: 'Anthropic client, streaming 20 chunks, 32 connections (proxy translates)',
    clientFormat: 'anthropic',
    body: 'anthropic-stream',
    connections: 32,
    expect: 'message_stop',
  },
  {
    name: 'responses-json-c32',
    description: 'Responses client, non-streaming, 32 connections (proxy translates to the OpenAI chat upstream)',
    clientFormat: 'responses',
    body: 'responses-json',
    connections: 32,
    expect: '"output"',
  },
  {
    name: 'responses-stream-c32',
    description: 'Responses client, streaming 20 chunks, 32 connections (proxy translates to typed response.* events)',
    clientFormat: 'responses',
    body: 'responses-stream',
    connections: 32,
    expect: 'response.completed',
  },
  {
    name: 'responses-codex-json-c32',
    description: 'Responses client to a codex (Responses) upstream, non-streaming, 32 connections (sent upstream as a stream, answered from response.completed)',
    clientFormat: 'responses',
    body: 'responses-codex-json',
    connections: 32,
    expect: '"output"',
  },
  {
    name: 'responses-codex-stream-c32',
    description: 'Responses client to a codex (Responses) upstream, streaming 20 events, 32 connections (pass-through: bytes relayed)',
    clientFormat: 'responses',
    body: 'responses-codex-stream',
    connections: 32,
    expect: 'response.completed',
  },
];

/**
 * A Gemini client's scenario: the path names the model (which provider, so which bridge) and the
 * method; `?alt=sse` asks for SSE. stub-direct and the floor answer Gemini natively, so they are the
 * pass-through reference, as for the Anthropic scenarios.
 * @param {string} name @param {string} model @param {boolean} stream @param {string} what
 * @returns {Scenario}
 */
function geminiScenario(name, model, stream, what, named = true) {
  return {
    name,
    description: `Gemini client, ${stream ? 'streaming 20 chunks (?alt=sse)' : 'non-streaming'}, 32 connections (${what})`,
    clientFormat: 'gemini',
    body: 'gemini-request',
    path: `/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
    connections: 32,
    expect: stream ? 'finishReason' : '"candidates"',
    gemini: true,
    named,
  };
}

// Issue 12: the Gemini surface against each upstream format, and the chained translations (a client
// format → chat → the upstream's). The full run takes the two Gemini streams; the others run when
// named (`--scenario gemini-json-c32,…`, docs/benchmarks.md lists them).
throughputScenarios.push(
  geminiScenario('gemini-json-c32', benchGeminiModel, false, 'pass-through to the gemini provider'),
  geminiScenario('gemini-stream-c32', benchGeminiModel, true, 'pass-through to the gemini provider', false),
  geminiScenario('gemini-openai-json-c32', benchModel, false, 'translated to the OpenAI chat upstream'),
  geminiScenario('gemini-openai-stream-c32', benchModel, true, 'translated to the OpenAI chat upstream', false),
  geminiScenario('gemini-anthropic-json-c32', benchAnthropicModel, false, 'translated to the Anthropic upstream'),
  geminiScenario('gemini-anthropic-stream-c32', benchAnthropicModel, true, 'translated to the Anthropic upstream'),
  geminiScenario('gemini-codex-stream-c32', benchCodexModel, true, 'chained: Gemini → chat → Responses, to the codex provider'),
  {
    name: 'anthropic-codex-json-c32',
    description: 'Anthropic client to a codex (Responses) upstream, non-streaming, 32 connections (chained: Anthropic → chat → Responses)',
    clientFormat: 'anthropic',
    body: 'anthropic-codex-json',
    connections: 32,
    expect: '"content"',
    named: true,
  },
  {
    name: 'anthropic-codex-stream-c32',
    description: 'Anthropic client to a codex (Responses) upstream, streaming 20 events, 32 connections (chained: Anthropic → chat → Responses)',
    clientFormat: 'anthropic',
    body: 'anthropic-codex-stream',
    connections: 32,
    expect: 'message_stop',
    named: true,
  },
  {
    name: 'responses-gemini-json-c32',
    description: 'Responses client to the gemini provider, non-streaming, 32 connections (chained: Responses → chat → Gemini)',
    clientFormat: 'responses',
    body: 'responses-gemini-json',
    connections: 32,
    expect: '"output"',
    gemini: true,
    named: true,
  },
  {
    name: 'responses-gemini-stream-c32',
    description: 'Responses client to the gemini provider, streaming 20 chunks, 32 connections (chained: Responses → chat → Gemini)',
    clientFormat: 'responses',
    body: 'responses-gemini-stream',
    connections: 32,
    expect: 'response.completed',
    gemini: true,
    named: true,
  },
);

/** Scenarios run by bench/stream-client.mjs instead of wrk. */
export const streamScenarios = [
  { name: 'slow-streams-1000', description: '1,000 concurrent slow OpenAI streams (20 chunks, 250 ms apart): peak RSS, stalls', quick: true },
  {
    name: 'first-byte',
    description: 'first streamed chunk: time from the upstream writing it to the client receiving it, 1 connection, upstream pauses 20 ms after it',
    quick: true,
  },
];

/** Paths per client format; the stub answers every format, the proxy translates to the scenario model's provider. */
export const endpointPaths = { openai: '/v1/chat/completions', anthropic: '/v1/messages', responses: '/v1/responses' };

/** The path a scenario's requests go to: its own (Gemini's carry the model), else its format's. @param {Scenario} scenario */
export const scenarioPath = (scenario) => scenario.path ?? endpointPaths[scenario.clientFormat];
