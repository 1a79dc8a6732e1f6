/**
 * The benchmark's scenarios and their request bodies. A scenario fixes the client wire format, the
 * body, the connection count and how a correct answer is recognised; the targets it runs against
 * are chosen by run.mjs.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** Model name the stub answers with and the proxy config routes to the stub provider. */
export const benchModel = 'bench-model';

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
  'anthropic-json': { model: benchModel, max_tokens: 64, messages: shortMessages },
  'anthropic-stream': { model: benchModel, max_tokens: 64, messages: shortMessages, stream: true },
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
 * @property {'openai' | 'anthropic'} clientFormat  which endpoint the client calls
 * @property {keyof typeof bodies} body
 * @property {number} connections
 * @property {string} expect       substring of a correct response body (the sanity check before measuring)
 * @property {boolean} [layerMatrix] also run the proxy with each security layer off, one at a time
 * @property {boolean} [quick]     part of `--quick`
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
    name: 'anthropic-json-c32',
    description: 'Anthropic client, non-streaming, 32 connections (proxy translates to the OpenAI upstream)',
    clientFormat: 'anthropic',
    body: 'anthropic-json',
    connections: 32,
    expect: '"content"',
    quick: true,
  },
  {
    name: 'anthropic-stream-c32',
    description: 'Anthropic client, streaming 20 chunks, 32 connections (proxy translates)',
    clientFormat: 'anthropic',
    body: 'anthropic-stream',
    connections: 32,
    expect: 'message_stop',
  },
];

/** Scenarios run by bench/stream-client.mjs instead of wrk. */
export const streamScenarios = [
  { name: 'slow-streams-1000', description: '1,000 concurrent slow OpenAI streams (20 chunks, 250 ms apart): peak RSS, stalls', quick: true },
  {
    name: 'first-byte',
    description: 'first streamed chunk: time from the upstream writing it to the client receiving it, 1 connection, upstream pauses 20 ms after it',
    quick: true,
  },
];

/** Paths per client format; the stub answers both, the proxy translates anthropic → its OpenAI upstream. */
export const endpointPaths = { openai: '/v1/chat/completions', anthropic: '/v1/messages' };
