import type { TSchema } from '@sinclair/typebox';
import { GatewayError } from '../errors/gateway-error.js';

/**
 * The `server.validation` rules a route row does not spell out itself, applied by the one client
 * route handler (routes/client-route.ts) around the schema check:
 *
 * - `max_messages`: the row's message list (`messages`, Gemini's `contents`) is counted **before**
 *   the schema walks it, so a body of a million tiny messages costs one length read.
 * - `strict`: top-level fields the row's schema does not name are refused by name. Known fields
 *   come from the schema itself, so a new row is covered without a list of its own.
 *
 * The token cap (the row's `tokenCaps`) and the schema check are in validate-body.ts.
 */

/** Client-chosen names quoted in error messages are cut to this length. */
const maxQuotedFieldLength = 64;

function invalid(message: string): GatewayError {
  return new GatewayError('GW_INVALID_REQUEST', { message: `Invalid request: ${message}` });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 400 naming the list when `body[field]` is an array longer than `max`; anything else is the schema's to judge. */
export function enforceMessageCount(body: unknown, field: string, max: number): void {
  const list = isRecord(body) ? body[field] : undefined;
  if (Array.isArray(list) && list.length > max) {
    throw invalid(`${field}: ${list.length} entries is more than this gateway's limit of ${max} (server.validation.max_messages).`);
  }
}

/**
 * The top-level field names an object schema declares (compiled once per row); for a union of
 * object schemas (Gemini's countTokens takes two shapes), the names any member declares.
 */
export function knownTopLevelFields(schema: TSchema): ReadonlySet<string> {
  const names = new Set<string>();
  const anyOf: unknown = (schema as { anyOf?: unknown }).anyOf;
  const members: readonly unknown[] = Array.isArray(anyOf) ? anyOf : [schema];
  for (const member of members) {
    const properties: unknown = isRecord(member) ? member['properties'] : undefined;
    if (isRecord(properties)) for (const name of Object.keys(properties)) names.add(name);
  }
  return names;
}

/** 400 naming the first top-level field of `body` that `known` lacks (`server.validation.strict`). */
export function refuseUnknownFields(body: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const field of Object.keys(body)) {
    if (!known.has(field)) {
      throw invalid(`unknown field '${field.slice(0, maxQuotedFieldLength)}' (server.validation.strict refuses fields this gateway does not know).`);
    }
  }
}
