import type { FastifyRequest } from 'fastify';
import secureJsonParse from 'secure-json-parse';
import { GatewayError } from '../../errors/gateway-error.js';
import { scanJsonStructure } from './json-scan.js';

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
 * 3. parses with secure-json-parse, refusing prototype poisoning (`__proto__`, `constructor.prototype`).
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
    const problem = scanJsonStructure(body, maxDepth);
    if (problem !== undefined) {
      const message =
        problem.kind === 'duplicate-key'
          ? `The request body has the key '${problem.key}' more than once in one object; send each key once.`
          : `The request body is nested deeper than ${problem.maxDepth} levels of objects and arrays (server.validation.max_json_depth).`;
      return done(new GatewayError('GW_INVALID_JSON', { message }));
    }
    let parsed: unknown;
    try {
      parsed = secureJsonParse.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      return done(new GatewayError('GW_INVALID_JSON'));
    }
    done(null, parsed);
  };
}
