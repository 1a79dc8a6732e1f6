import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeyLimiter, KeyReservation } from '../limits/key-limiter.js';
import { allGivenBack, estimateTokens, isRefusal, type ProviderLimiter, type ReserveResult } from '../limits/provider-limiter.js';
import { rateLimitedError } from '../limits/rate-limited-error.js';
import type { ProviderRuntime } from './runtime.js';
import { offResponseClose, onResponseClose, type CloseTask } from './response-close.js';

/**
 * The per-request limits taken after routing and before anything is sent: the client key's
 * (limits/key-limiter.ts: concurrency slot, budgets, per-minute buckets) and the provider's
 * (`providers.<name>.rate_limit`). Each reservation is kept on the response and settled when it
 * closes, with the usage the per-request record holds. Every route that reaches an upstream or
 * answers for one (chat, Responses, messages, Gemini, and the token-counting routes) admits its
 * request here, so no route can skip the key's limits.
 */

/** The limiters a route hands in (ChatPipelineDependencies has them); absent = not enforced (unit tests). */
export interface RequestLimiters {
  providerLimiter?: ProviderLimiter | undefined;
  keyLimiter?: KeyLimiter | undefined;
}

/**
 * Admits one request under its key's limits, then (for a generating request) its provider's
 * budget, or throws the 429. `generating` is the request's body for a request that generates (its
 * estimate is computed here, only when a limit applies), undefined for a token count: a count
 * takes the key's concurrency slot and one request of its `requests_per_minute`, but no tokens, no
 * budget and nothing of the provider's budget (the upstreams' counting endpoints are not their
 * generation quota). A refusal by the provider's budget undoes the key's reservation (its request
 * slot included): a refused request does not count against the key.
 *
 * Undefined (no promise, nothing to await) when no limit applies (an unlimited key on a provider
 * without a budget pays two tests), and when every limit was answered at once (the memory backend).
 */
export function admitRequest(
  limiters: RequestLimiters,
  request: FastifyRequest,
  reply: FastifyReply,
  provider: ProviderRuntime,
  generating: Record<string, unknown> | undefined,
  defaultMaxTokens: number,
): Promise<void> | undefined {
  const principal = request.principal;
  const keyLimiter = principal !== undefined && principal.policy.limited ? limiters.keyLimiter : undefined;
  const providerLimiter = generating !== undefined && provider.config.rate_limit !== undefined ? limiters.providerLimiter : undefined;
  if (keyLimiter === undefined && providerLimiter === undefined) return undefined;
  const estimate = generating === undefined ? undefined : requestEstimate(request, generating, defaultMaxTokens);
  return admit(keyLimiter, providerLimiter, request, reply, provider, estimate);
}

/**
 * The key's reservation, then the provider's. On the memory backend both are answered at once, so
 * a limited request pays no promise and no microtask turn here; a shared backend's answers are awaited.
 */
function admit(
  keyLimiter: KeyLimiter | undefined,
  providerLimiter: ProviderLimiter | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
  provider: ProviderRuntime,
  estimate: number | undefined,
): Promise<void> | undefined {
  const reservingKey = keyLimiter === undefined ? undefined : reserveKeyLimits(keyLimiter, request, reply, estimate);
  if (reservingKey !== undefined) return reservingKey.then(() => admitProvider(providerLimiter, request, reply, provider, estimate));
  return admitProvider(providerLimiter, request, reply, provider, estimate);
}

/**
 * The provider's budget, after the key's reservation; its refusal undoes the key's reservation,
 * and is thrown only once that is done (refuseAfterGivingBack). The admitted path adds nothing.
 */
function admitProvider(
  providerLimiter: ProviderLimiter | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
  provider: ProviderRuntime,
  estimate: number | undefined,
): Promise<void> | undefined {
  if (providerLimiter === undefined || estimate === undefined) return undefined;
  let reserving: Promise<void> | undefined;
  try {
    reserving = reserveProviderBudget(providerLimiter, provider, request, reply, estimate);
  } catch (error) {
    return refuseAfterGivingBack(cancelKeyReservation(reply), error);
  }
  return reserving?.catch((error: unknown) => refuseAfterGivingBack(cancelKeyReservation(reply), error));
}

/**
 * Throws `error` once `givingBack` (a cancel still reaching a shared backend) is done: at once when
 * nothing is under way (the memory backend), else from the promise. Answering a refusal before
 * its give-back reached Redis would let a client retrying at once (here or on another replica)
 * find the slot, tokens or budget it was refused still taken, and be refused wrongly. The
 * give-back never rejects and its wait is bounded by the state guard's deadline (500 ms), so a
 * Redis outage delays the refusal at most that long and never hangs the client.
 */
function refuseAfterGivingBack(givingBack: Promise<void> | undefined, error: unknown): Promise<never> {
  if (givingBack === undefined) throw error;
  return givingBack.then(() => {
    throw error;
  });
}

/**
 * The reservation's estimate for one generating request (estimateTokens): its body bytes / 4 plus
 * the most it may generate (the surface's max-output field, nested for Gemini; else
 * upstream.default_max_tokens).
 */
function requestEstimate(request: FastifyRequest, body: Record<string, unknown>, defaultMaxTokens: number): number {
  const generation = body['generationConfig'] as Record<string, unknown> | undefined;
  const maxTokens = body['max_tokens'] ?? body['max_completion_tokens'] ?? body['max_output_tokens'] ?? generation?.['maxOutputTokens'];
  return estimateTokens(rawBodyBytes(request), typeof maxTokens === 'number' ? maxTokens : defaultMaxTokens);
}

/** The client's body size in bytes (the raw bytes the JSON parser keeps; re-serialised only as a fallback, as rawBodyOf does). */
function rawBodyBytes(request: FastifyRequest): number {
  return request.rawBody?.length ?? Buffer.byteLength(JSON.stringify(request.body));
}

/**
 * Takes a request slot and the token estimate from the provider's budgets before anything is sent
 * (limits/provider-limiter.ts), or refuses with 429 GW_RATE_LIMITED. The reservation is settled
 * when the response closes: with the usage the per-request record holds (input + output tokens),
 * or nothing used when the answer was an error before any byte of a body; otherwise (an aborted
 * stream, no record, no usage reported) the estimate stands.
 */
function reserveProviderBudget(limiter: ProviderLimiter, provider: ProviderRuntime, request: FastifyRequest, reply: FastifyReply, estimate: number): Promise<void> | undefined {
  const reserving = limiter.reserve(provider.name, provider.config.rate_limit!, estimate);
  if (reserving instanceof Promise) return reserving.then((result) => holdProviderReservation(limiter, provider, request, reply, result));
  holdProviderReservation(limiter, provider, request, reply, reserving);
  return undefined;
}

/** Refuses with 429 GW_RATE_LIMITED, or keeps the reservation on the response to settle when it closes. */
function holdProviderReservation(limiter: ProviderLimiter, provider: ProviderRuntime, request: FastifyRequest, reply: FastifyReply, result: ReserveResult): void {
  const limit = provider.config.rate_limit!;
  if (isRefusal(result)) {
    throw rateLimitedError(
      result,
      result.stateUnavailable
        ? `The rate-limit state of provider '${provider.name}' is unavailable; retry later.`
        : `Provider '${provider.name}' is over its ${limit.tokens_per_minute === undefined ? 'request' : 'request or token'} budget; retry later.`,
    );
  }
  // Kept when there is something to settle (tokens) or to give back (a request slot, releaseUnsentRequest).
  if (result.shape === undefined && result.requests === undefined) return;
  holdReservation(reply, pendingProviderSettlement, settleProviderOnClose, { limiter, reservation: result, request });
}

/**
 * A client key's limits (limits/key-limiter.ts): a slot, the budgets and the per-minute buckets,
 * or the 429 it throws. Settled when the response closes, like the provider's reservation.
 */
function reserveKeyLimits(limiter: KeyLimiter, request: FastifyRequest, reply: FastifyReply, estimate: number | undefined): Promise<void> | undefined {
  const principal = request.principal!;
  const reserving = limiter.reserve(principal.id, principal.policy, estimate);
  if (reserving instanceof Promise) return reserving.then((reservation) => holdKeyReservation(limiter, request, reply, reservation));
  holdKeyReservation(limiter, request, reply, reserving);
  return undefined;
}

/** Keeps the key's reservation on the response, to settle when it closes. */
function holdKeyReservation(limiter: KeyLimiter, request: FastifyRequest, reply: FastifyReply, reservation: KeyReservation): void {
  holdReservation(reply, pendingKeySettlement, settleKeyOnClose, { limiter, reservation, request });
}

/**
 * Gives back what an admitted request took of its key's and its provider's limits when it is
 * answered without anything sent upstream (GW_NO_CREDENTIAL_AVAILABLE: every credential of the
 * provider cooling down, excluded or absent), as for a refused request: a client retrying into a
 * provider that cannot serve it does not spend its minute, its concurrency slot or its budgets, nor
 * the provider's budget. Nothing happens for a request that holds no reservation.
 *
 * Undefined when all went back at once (no reservation, or the memory backend); else a promise
 * (never rejecting, bounded by the state guard's deadline) that the caller awaits before it
 * answers, for the reason refuseAfterGivingBack gives.
 */
export function releaseUnsentRequest(reply: FastifyReply): Promise<void> | undefined {
  const key = cancelReservation(reply, pendingKeySettlement, settleKeyOnClose);
  const provider = cancelReservation(reply, pendingProviderSettlement, settleProviderOnClose);
  return allGivenBack(key, provider);
}

/**
 * Rethrows `error`, a refusal found after the request was admitted but before anything was sent
 * upstream (content its bridge cannot carry), once what the request reserved went back
 * (releaseUnsentRequest): synchronously when that was immediate, else from the promise. A refused
 * request does not count against its key or its provider.
 */
export function refuseUnsentRequest(reply: FastifyReply, error: unknown): Promise<never> {
  return refuseAfterGivingBack(releaseUnsentRequest(reply), error);
}

/** Undoes the key's reservation of a request refused before it was sent (see admitRequest). */
function cancelKeyReservation(reply: FastifyReply): Promise<void> | undefined {
  return cancelReservation(reply, pendingKeySettlement, settleKeyOnClose);
}

/**
 * A reservation kept on its response (under a symbol: no closure per request) until the response
 * closes and it is settled with the usage, or until it is cancelled before anything was sent.
 */
interface PendingReservation<Reservation> {
  limiter: { settle(reservation: Reservation, usedTokens: number | undefined): void; cancel(reservation: Reservation): Promise<void> | undefined };
  reservation: Reservation;
  request: FastifyRequest;
}
type HoldingResponse = ServerResponse & { [slot: symbol]: PendingReservation<unknown> | undefined };

const pendingKeySettlement = Symbol('pending-key-settlement');
const pendingProviderSettlement = Symbol('pending-provider-settlement');

/** The close tasks that settle each kind (one function each, so a cancel can take its own back). */
function settleKeyOnClose(response: ServerResponse): void {
  settleReservation(response, pendingKeySettlement);
}
function settleProviderOnClose(response: ServerResponse): void {
  settleReservation(response, pendingProviderSettlement);
}

function holdReservation<Reservation>(reply: FastifyReply, slot: symbol, settleTask: CloseTask, pending: PendingReservation<Reservation>): void {
  const response = reply.raw as HoldingResponse;
  response[slot] = pending;
  onResponseClose(response, settleTask);
}

/** The reservation under `slot`, taken off the response (so it is settled or cancelled once). */
function takeReservation(response: ServerResponse, slot: symbol): PendingReservation<unknown> | undefined {
  const holding = response as HoldingResponse;
  const pending = holding[slot];
  if (pending !== undefined) holding[slot] = undefined;
  return pending;
}

function settleReservation(response: ServerResponse, slot: symbol): void {
  const pending = takeReservation(response, slot);
  pending?.limiter.settle(pending.reservation, usedTokensOf(response, pending.request));
}

/** Undefined when nothing was held or all went back at once; else the give-back under way (see KeyLimiter.cancel). */
function cancelReservation(reply: FastifyReply, slot: symbol, settleTask: CloseTask): Promise<void> | undefined {
  const pending = takeReservation(reply.raw, slot);
  if (pending === undefined) return undefined;
  offResponseClose(reply.raw, settleTask);
  return pending.limiter.cancel(pending.reservation);
}

/**
 * Tokens a closed response used: the record's usage (input + output), 0 for an error answered
 * before any body, undefined (the estimate stands) when unknown (an aborted stream, no record).
 */
function usedTokensOf(response: ServerResponse, request: FastifyRequest): number | undefined {
  const usage = request.exchange?.usage;
  if (usage !== undefined && (usage.inputTokens !== undefined || usage.outputTokens !== undefined)) return (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
  return response.statusCode >= 400 ? 0 : undefined;
}
