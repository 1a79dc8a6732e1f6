import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WireFormat } from '../../formats/wire-format.js';
import { runChat, type ChatPipelineDependencies } from '../chat-pipeline.js';
import { enforceMessageCount, knownTopLevelFields, refuseUnknownFields } from '../request-rules.js';
import { compileBodyValidator, enforceMaxTokens, maxTokensCapFor, type BodyValidator } from '../validate-body.js';

/** The path parameters of a route (`/v1beta/models/:model…` gives `model`); empty for the body-model routes. */
export type RouteParams = Readonly<Record<string, string | undefined>>;

/** A field that asks for output tokens, checked against the model's cap (validate-body.ts). */
export interface TokenCapField<Body> {
  /** As the client wrote it, for the 400's message (`max_tokens`, `generationConfig.maxOutputTokens`). */
  readonly name: string;
  read(body: Body): number | null | undefined;
}

/** What a route hands to its runner once the body is valid and within its caps. */
export interface ClientRequestInput<Body> {
  clientFormat: WireFormat;
  body: Body;
  model: string;
  stream: boolean;
}

/**
 * One client route, declared once: where it is, which wire format it speaks, its body schema, where
 * the model and the stream flag are, and which fields ask for output tokens. Members are methods so
 * that a row of any body type fits the table (they are only called with the row's own body).
 *
 * Rows to come fit without a new column: Gemini takes the model from the URL
 * (`model: (_body, params) => params.model`), streams by path (one row per method, `stream: () =>
 * true`) and caps a nested field (`generationConfig.maxOutputTokens`); OpenAI Responses caps
 * `max_output_tokens`.
 */
export interface ClientRoute<Schema extends TSchema> {
  readonly url: string;
  readonly surface: WireFormat;
  readonly schema: Schema;
  /** The top-level array of the conversation (`messages`; Gemini `contents`), bounded by `server.validation.max_messages`. */
  readonly messages: string;
  model(body: Static<Schema>, params: RouteParams): string;
  stream(body: Static<Schema>, params: RouteParams): boolean;
  /** Checked in order against the model's cap; empty for a route that produces no output (count_tokens). */
  readonly tokenCaps: readonly TokenCapField<Static<Schema>>[];
  /** What serves the request; `runChat` (the chat pipeline) when absent. */
  run?(dependencies: ChatPipelineDependencies, request: FastifyRequest, reply: FastifyReply, input: ClientRequestInput<Static<Schema>>): Promise<unknown>;
}

/** A row with its schema type erased, for the table; `defineClientRoute` type-checks it first. */
export type ClientRouteRow = ClientRoute<TSchema>;

/** Type-checks a row against its own schema (so `model`, `stream` and the cap fields read real fields). */
export function defineClientRoute<Schema extends TSchema>(route: ClientRoute<Schema>): ClientRouteRow {
  return route;
}

/**
 * Registers every row as `POST url` with one handler shape: count the messages → validate (the
 * schema compiled once, here) → refuse unknown top-level fields when `server.validation.strict` is
 * on → cap each token field against the model's cap → run. The same steps for every surface, so a
 * per-key check on the model (key governance) is added here once, after the cap.
 */
export function registerClientRoutes(app: FastifyInstance, dependencies: ChatPipelineDependencies, table: readonly ClientRouteRow[]): void {
  for (const route of table) {
    const validate: BodyValidator<TSchema> = compileBodyValidator(route.schema);
    const knownFields = knownTopLevelFields(route.schema);
    const { surface, tokenCaps, messages } = route;
    const run = route.run?.bind(route) ?? runChat;
    // Synchronous, so that no variable of the awaiting handler holds the parsed body while the
    // upstream answers: the pipeline lets go of it on a pass-through (releaseParsedBody).
    const checkedInput = (request: FastifyRequest): ClientRequestInput<unknown> => {
      const body: unknown = request.body;
      const runtime = dependencies.runtime();
      const validation = runtime.loaded.config.server.validation;
      enforceMessageCount(body, messages, validation.max_messages);
      validate(body);
      if (validation.strict) refuseUnknownFields(body as Record<string, unknown>, knownFields);
      const params = request.params as RouteParams;
      const model = route.model(body, params);
      if (tokenCaps.length > 0) {
        const cap = maxTokensCapFor(runtime, model);
        for (const field of tokenCaps) enforceMaxTokens(field.read(body), field.name, cap);
      }
      return { clientFormat: surface, body, model, stream: route.stream(body, params) };
    };
    app.post(route.url, async (request, reply) => {
      await run(dependencies, request, reply, checkedInput(request));
      return reply;
    });
  }
}
