import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import { recordManagementLoginFailure } from '../../management/audit.js';
import { roleAllows } from '../../management/roles.js';
import { rateLimitKey } from '../../net/ip-address.js';
import type { ManagementServices } from '../../management/services.js';
import type { ManagementRole, Principal } from '../../security/principal.js';
import type { Runtime } from '../runtime.js';
import { compileBodyValidator } from '../validate-body.js';

/** The header carrying a TOTP code for destructive actions of an enrolled admin key. */
export const totpHeader = 'x-management-totp';

/** What a handler gets: the caller, its validated input, and the services. */
export interface ManagementCall<Body, Params, Query = undefined> {
  readonly principal: Principal & { readonly role: ManagementRole };
  /** `management:<key id>`: the actor of every event the action records. */
  readonly actor: string;
  readonly body: Body;
  readonly params: Params;
  /** The query string's parameters, checked against the endpoint's `query` schema. */
  readonly query: Query;
  readonly services: ManagementServices;
  readonly runtime: Runtime;
  readonly request: FastifyRequest;
}

/**
 * One management endpoint. `role` is the lowest role allowed (management/roles.ts); `destructive`
 * marks actions that remove access, reveal secrets or change who can do what: an admin key with TOTP
 * enrolled must send a fresh code for them. Schemas are TypeBox, closed (unknown fields refused),
 * compiled once at start.
 */
export interface ManagementEndpoint<
  BodySchema extends TSchema | undefined = TSchema | undefined,
  ParamsSchema extends TSchema | undefined = TSchema | undefined,
  QuerySchema extends TSchema | undefined = TSchema | undefined,
> {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Below `/v0/management`. */
  readonly url: string;
  readonly role: ManagementRole;
  readonly destructive?: true;
  readonly body?: BodySchema;
  readonly params?: ParamsSchema;
  /** The query string (a closed object of strings); without one, any query parameter is refused. */
  readonly query?: QuerySchema;
  /** HTTP status of a success; 200 unless given. */
  readonly status?: number;
  handle(
    call: ManagementCall<
      BodySchema extends TSchema ? Static<BodySchema> : undefined,
      ParamsSchema extends TSchema ? Static<ParamsSchema> : undefined,
      QuerySchema extends TSchema ? Static<QuerySchema> : undefined
    >,
  ): Promise<unknown>;
}

/** Lets a table hold endpoints of different schemas while each handler keeps its own types. */
export function endpoint<BodySchema extends TSchema | undefined = undefined, ParamsSchema extends TSchema | undefined = undefined, QuerySchema extends TSchema | undefined = undefined>(
  definition: ManagementEndpoint<BodySchema, ParamsSchema, QuerySchema>,
): ManagementEndpoint {
  return definition;
}

export interface EndpointContext {
  runtime: () => Runtime;
  services: ManagementServices;
}

/**
 * Registers each endpoint with one handler doing, in order: role check (403
 * `GW_MANAGEMENT_FORBIDDEN`, before the input is even looked at, so a low role learns nothing from
 * validation messages), params, query and body against their schemas (400 `GW_INVALID_REQUEST`
 * naming the field; a query parameter an endpoint does not take is refused, not ignored), the TOTP
 * check for destructive actions (totp-gate below), then the action.
 */
export function registerManagementEndpoints(scope: FastifyInstance, endpoints: readonly ManagementEndpoint[], context: EndpointContext): void {
  for (const definition of endpoints) {
    // Plain checks (not assertion signatures): the handler casts once, after both ran.
    const checkBody: ((value: unknown) => void) | undefined = definition.body === undefined ? undefined : compileBodyValidator(definition.body);
    const checkParams: ((value: unknown) => void) | undefined = definition.params === undefined ? undefined : compileBodyValidator(definition.params);
    const checkQuery: ((value: unknown) => void) | undefined = definition.query === undefined ? undefined : compileBodyValidator(definition.query);
    scope.route({
      method: definition.method,
      url: definition.url,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const principal = request.principal;
        if (principal?.role === undefined || !roleAllows(principal.role, definition.role)) throw new GatewayError('GW_MANAGEMENT_FORBIDDEN');
        const params: unknown = request.params;
        checkParams?.(params);
        const query = queryOf(request);
        if (checkQuery !== undefined) checkQuery(query);
        else if (Object.keys(query).length > 0) throw new GatewayError('GW_INVALID_REQUEST', { message: 'Invalid request: query: this action takes no query parameters.' });
        const body: unknown = request.body;
        if (checkBody !== undefined) checkBody(body);
        else if (body !== undefined && body !== null) throw new GatewayError('GW_INVALID_REQUEST', { message: 'Invalid request: body: this action takes no body.' });
        if (definition.destructive === true) await requireTotpWhenEnrolled(request, principal.id, context);
        const result = await definition.handle({
          principal: principal as Principal & { role: ManagementRole },
          actor: `management:${principal.id}`,
          body: body,
          params: params,
          query: checkQuery === undefined ? undefined : query,
          services: context.services,
          runtime: context.runtime(),
          request,
        });
        return reply.code(definition.status ?? 200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(result));
      },
    });
  }
}

/** The parsed query string as a plain object (Fastify's has a null prototype), `{}` when none was sent. */
function queryOf(request: FastifyRequest): Record<string, unknown> {
  const query = request.query;
  return typeof query === 'object' && query !== null ? { ...(query as Record<string, unknown>) } : {};
}

/**
 * Destructive actions of a key with TOTP enrolled need `X-Management-TOTP`: missing → 401
 * `GW_TOTP_REQUIRED`; wrong, outside ±1 step or replayed → 401 `GW_TOTP_INVALID`, counted by the
 * lockout like a wrong key (six digits must not be guessable at leisure).
 */
export async function requireTotpWhenEnrolled(request: FastifyRequest, keyId: string, context: EndpointContext): Promise<void> {
  const { services } = context;
  const secret = await services.totpStore.activeSecret(keyId);
  if (secret === undefined) return;
  try {
    const code = request.headers[totpHeader];
    if (typeof code !== 'string' || code === '') throw new GatewayError('GW_TOTP_REQUIRED');
    const verdict = await services.totpGuard.check(keyId, secret, code.trim());
    if (verdict === 'accepted') return;
    await countTotpFailure(request, keyId, context, verdict);
  } finally {
    secret.fill(0);
  }
}

/** A refused TOTP code counts for the lockout of the client IP; throws the refusal. */
export async function countTotpFailure(request: FastifyRequest, keyId: string, context: EndpointContext, verdict: 'invalid' | 'replayed'): Promise<never> {
  const client = request.clientAddress ?? undefined;
  const subject = client === undefined ? 'unknown' : rateLimitKey(client);
  const started = await context.services.lockout.recordFailure(subject, context.runtime().loaded.config.management.lockout);
  recordManagementLoginFailure(context.services.events, { ip: client?.address, reason: `totp-${verdict}`, actor: `management:${keyId}` });
  if (started !== undefined) throw new GatewayError('GW_MANAGEMENT_LOCKED_OUT', { retryAfterSeconds: started });
  throw new GatewayError('GW_TOTP_INVALID');
}
