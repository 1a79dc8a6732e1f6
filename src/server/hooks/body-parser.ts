import type { FastifyRequest } from 'fastify';
import secureJsonParse from 'secure-json-parse';
import { GatewayError } from '../../errors/gateway-error.js';
import { scanJsonStructure, type JsonScanProblem } from './json-scan.js';

/**
 * Deepest nesting of objects and arrays a client body may have, unless `server.validation.max_json_depth`
 * says otherwise. Real clients stay far below it (Claude Code's tool schemas nest about 10–20
 * objects, 20–40 levels with their `properties` maps); every recursive reader after the parser
 * (`JSON.stringify` of a rewritten body, the translators) stays far from Node's stack limit at this
 * depth. The bound holds everywhere in the body, inside unknown fields too: those are forwarded.
 */
export const maxJsonDepth = 128;

export interface JsonBodyParserOptions {
  /** A number, or a function read per request (the hot-reloaded `server.validation.max_json_depth`). */
  maxDepth?: number | (() => number);
}

/** Fastify's content-type parser signature for `parseAs: 'buffer'`. */
export type BufferBodyParser = (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => void;

/**
 * The one JSON body parser, compiled once. In one request it:
 * 1. keeps the raw bytes (`request.rawBody`), which a same-format pass-through forwards unchanged;
 * 2. refuses a repeated key in any object and nesting deeper than `maxDepth` (json-scan.ts: the
 *    bytes forwarded must mean to every upstream what they meant to the gateway's checks);
 * 3. refuses prototype poisoning: a `__proto__` key is found by that same scan; a body with a
 *    `constructor` key (rare) is parsed by secure-json-parse, which refuses `constructor.prototype`;
 *    every other body by `JSON.parse` alone. secure-json-parse on every body ran two regular
 *    expressions over the whole text (~40 µs of ~900 per request for a 100 KB Claude Code body).
 * Every refusal is 400 `GW_INVALID_JSON` with a message that says what to fix.
 */
export function createJsonBodyParser(options: JsonBodyParserOptions = {}): BufferBodyParser {
  const configured = options.maxDepth ?? maxJsonDepth;
  if (typeof configured === 'number' && (!Number.isInteger(configured) || configured < 1)) {
    throw new Error(`createJsonBodyParser: maxDepth must be a positive integer, got ${configured}`);
  }
  const depthNow = typeof configured === 'number' ? () => configured : configured;
  return (request, body, done) => {
    const maxDepth = depthNow();
    request.rawBody = body;
    if (body.length === 0) return done(new GatewayError('GW_INVALID_JSON', { message: 'The request body is empty.' }));
    const findings = { constructorKey: false };
    const problem = scanJsonStructure(body, maxDepth, findings);
    if (problem !== undefined) return done(new GatewayError('GW_INVALID_JSON', { message: messageFor(problem) }));
    let parsed: unknown;
    try {
      parsed = findings.constructorKey
        ? secureJsonParse.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' })
        : (JSON.parse(textOf(body)) as unknown);
    } catch {
      return done(new GatewayError('GW_INVALID_JSON'));
    }
    done(null, parsed);
  };
}

function messageFor(problem: JsonScanProblem): string {
  switch (problem.kind) {
    case 'duplicate-key':
      return `The request body has the key '${problem.key}' more than once in one object; send each key once.`;
    case 'too-deep':
      return `The request body is nested deeper than ${problem.maxDepth} levels of objects and arrays (server.validation.max_json_depth).`;
    case 'prototype-key':
      return "The request body has a '__proto__' key, which the gateway refuses (prototype poisoning); remove it.";
  }
}

/** The body as text, a UTF-8 byte order mark dropped (as secure-json-parse and fastify's own parser do). */
function textOf(body: Buffer): string {
  const hasByteOrderMark = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
  return body.toString('utf8', hasByteOrderMark ? 3 : 0);
}
