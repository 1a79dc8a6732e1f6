import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Static, TSchema } from '@sinclair/typebox';
import { GatewayError } from '../errors/gateway-error.js';
import type { Runtime } from './runtime.js';

/** Checks a client body against its route's schema: 400 `GW_INVALID_REQUEST` naming the first problem. */
export type BodyValidator<T extends TSchema> = (body: unknown) => asserts body is Static<T>;

/**
 * Compiled once at start (a route table row's schema, routes/route-table.ts): TypeBox's compiler
 * turns a schema into a plain JS check, which costs a few microseconds per request where an
 * interpreting validator costs tens.
 */
export function compileBodyValidator<T extends TSchema>(schema: T): BodyValidator<T> {
  const checker = TypeCompiler.Compile(schema);
  return (body: unknown): asserts body is Static<T> => {
    if (checker.Check(body)) return;
    const first = checker.Errors(body).First();
    const where = first === undefined || first.path === '' ? 'body' : first.path.slice(1).replace(/\//g, '.');
    throw new GatewayError('GW_INVALID_REQUEST', {
      message: `Invalid request: ${where}: ${first?.message ?? 'does not match the schema'}.`,
    });
  };
}

/** The max_tokens cap that applies to one request. */
export interface MaxTokensCap {
  limit: number;
  /** The model whose own `max_tokens` set the limit; absent when the global cap applies. */
  model?: string;
}

/**
 * The cap for a model: its entry's `max_tokens` when the config sets one (higher or lower than the
 * global cap), else `server.validation.max_tokens`. An unknown model gets the global cap; routing
 * answers 404 right after.
 */
export function maxTokensCapFor(runtime: Runtime, model: string): MaxTokensCap {
  const own = runtime.router.resolve(model)?.maxTokens;
  return own === undefined ? { limit: runtime.loaded.config.server.validation.max_tokens } : { limit: own, model };
}

/**
 * The gateway's max_tokens cap. Over it is a 400 naming the field, never a silent clamp: a client
 * that asked for 200k tokens must learn it will not get them, not receive a truncated answer.
 */
export function enforceMaxTokens(requested: number | null | undefined, field: string, cap: MaxTokensCap): void {
  if (requested === null || requested === undefined || requested <= cap.limit) return;
  const whose = cap.model === undefined ? "this gateway's limit" : `the limit for model '${cap.model}'`;
  throw new GatewayError('GW_MAX_TOKENS_EXCEEDED', { message: `${field} ${requested} is above ${whose} of ${cap.limit}.` });
}
