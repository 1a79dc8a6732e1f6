import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { WireFormat } from '../formats/wire-format.js';
import type { Principal } from '../security/principal.js';
import { onResponseClose } from './response-close.js';

/**
 * The per-request record ("exchange"): one object per request, created when it arrives and filled
 * along the path, read by subscribers at five fixed observer points. Later per-request layers
 * (usage accounting, audit, metrics, alerts) subscribe here instead of editing the pipeline. A
 * layer that must decide (a limiter, a scope check) is a hook, not an observer: observers cannot
 * change the answer, and one that throws is logged and ignored.
 */

/** One upstream attempt with one credential. */
export interface ExchangeAttempt {
  credentialId: string;
  /** The upstream's HTTP status; undefined when it never answered (connection failure, timeout, abort). */
  status: number | undefined;
  /** Milliseconds from sending to the answer's headers (or the failure). */
  ms: number;
  /** The catalog code this attempt failed with (why the next credential was tried); undefined on success. */
  failure: string | undefined;
}

/**
 * Token counts as the upstream reported them, read from its JSON answer or its final SSE events.
 * OpenAI: `prompt_tokens` (cached ones included), `completion_tokens`,
 * `prompt_tokens_details.cached_tokens`. Anthropic: `input_tokens` (cache reads excluded, as
 * Anthropic counts), `output_tokens`, `cache_read_input_tokens`. Absent fields stay undefined.
 */
export interface ExchangeUsage {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  cachedTokens: number | undefined;
}

export interface ExchangeRoute {
  provider: string;
  /** Undefined for `count_tokens`, whose route forwards the client's body without naming it here. */
  upstreamModel: string | undefined;
  /** The bridge's name (`openai-pass-through`, `openai-to-anthropic`, …). */
  bridge: string;
}

export interface ExchangeOutcome {
  /** The status the client got (200 for a stream that later failed; see errorCode). */
  status: number;
  /** The catalog code of the error answered, or of the error event that ended a stream. */
  errorCode: string | undefined;
  /** True when the client went away before the answer was complete. */
  clientAborted: boolean;
}

/**
 * Why the scope's authenticator refused the request (hooks/authenticate.ts): no key presented, or
 * one that matches none. One frozen object per case, so recording it allocates nothing.
 */
export interface ExchangeAuthFailure {
  readonly scope: 'client' | 'management';
  /** `client_certificate`: the management scope's mTLS refused the connection's certificate (none, or not from the management CA). */
  readonly reason: 'missing_key' | 'invalid_key' | 'client_certificate' | 'expired_key' | 'disabled_key';
}

export interface Exchange {
  readonly requestId: string;
  /**
   * The id is the client's `X-Request-Id` (create-app.ts keeps a sane one); otherwise the gateway
   * generated it (a UUID: nothing in it to redact or escape). Known here, so that the subscribers
   * that write the id need not test its shape on every request.
   */
  readonly requestIdFromClient: boolean;
  /**
   * The client's address: the socket's peer, or from a trusted proxy the forwarding header's
   * client (net/client-ip.ts); IPv4 in dotted form even when it arrived as `::ffff:…`.
   */
  readonly clientIp: string | undefined;
  readonly method: string;
  /** As the client sent it: may carry `?key=`. Subscribers that write it anywhere redact it. */
  readonly url: string;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  /** Monotonic start (performance.now()), for the durations below. */
  readonly startedAtMonotonic: number;
  /** Who the request acts as (set by the scope's authenticator hook); undefined before or without authentication. */
  principal: Principal | undefined;
  /** Set when the authenticator refused the request (401); undefined otherwise. */
  authFailure: ExchangeAuthFailure | undefined;
  /** The client's wire format; set when a chat route takes the request. */
  surface: WireFormat | undefined;
  requestedModel: string | undefined;
  route: ExchangeRoute | undefined;
  attempts: ExchangeAttempt[];
  /** Milliseconds from arrival to the first byte of the answer's body leaving for the client. */
  firstByteMs: number | undefined;
  usage: ExchangeUsage | undefined;
  outcome: ExchangeOutcome | undefined;
  /** Epoch milliseconds. */
  endedAt: number | undefined;
  /** Milliseconds from arrival to the end, one decimal. */
  durationMs: number | undefined;
}

/** A subscriber; each point is optional. Called synchronously: keep it cheap, hand slow work off. */
export interface ExchangeObserver {
  readonly name: string;
  routed?(exchange: Exchange): void;
  attempt?(exchange: Exchange, attempt: ExchangeAttempt): void;
  firstByte?(exchange: Exchange): void;
  usage?(exchange: Exchange): void;
  end?(exchange: Exchange): void;
}

type Point = 'routed' | 'firstByte' | 'usage' | 'end';

/** Where a response keeps the request whose record its `close` ends (one shared listener, no closure per request). */
const endingRequest = Symbol('exchange-ending-request');
type EndingResponse = ServerResponse & { [endingRequest]?: FastifyRequest };

/**
 * The observers registered at start, compiled into one list per point. With none registered
 * `start` returns undefined, no record is built and every point below is a skipped `if`.
 */
export class ExchangeObservers {
  private readonly byPoint: Record<Point, ExchangeObserver[]>;
  private readonly attemptObservers: ExchangeObserver[];
  readonly active: boolean;
  /**
   * The close task of every response (response-close.ts), built once: it finds its request through a symbol on
   * the response. A closure and a `once` wrapper per request cost ~1 µs in the profiles.
   */
  private readonly endOnClose: (response: EndingResponse) => void;

  constructor(
    observers: readonly ExchangeObserver[],
    private readonly logger: FastifyBaseLogger,
  ) {
    const having = (point: keyof ExchangeObserver): ExchangeObserver[] => observers.filter((observer) => typeof observer[point] === 'function');
    this.byPoint = { routed: having('routed'), firstByte: having('firstByte'), usage: having('usage'), end: having('end') };
    this.attemptObservers = having('attempt');
    this.active = observers.length > 0;
    this.endOnClose = closeListenerOf(this);
  }

  /** Starts the record of a request that just arrived, and ends it when its response closes (finished or not). */
  start(request: FastifyRequest, reply: FastifyReply, clientIp: string | undefined): Exchange | undefined {
    if (!this.active) return undefined;
    const exchange: Exchange = {
      requestId: request.id,
      requestIdFromClient: request.headers['x-request-id'] === request.id,
      clientIp,
      method: request.method,
      url: request.url,
      startedAt: Date.now(),
      startedAtMonotonic: performance.now(),
      principal: undefined,
      authFailure: undefined,
      surface: undefined,
      requestedModel: undefined,
      route: undefined,
      attempts: [],
      firstByteMs: undefined,
      usage: undefined,
      outcome: undefined,
      endedAt: undefined,
      durationMs: undefined,
    };
    // 'close' fires once per response, after a normal finish and after a client abort alike, so
    // every request ends exactly once ('finish' alone would miss the aborts).
    const response = reply.raw as EndingResponse;
    response[endingRequest] = request;
    onResponseClose(response, this.endOnClose);
    return exchange;
  }

  notify(point: Point, exchange: Exchange): void {
    const observers = this.byPoint[point];
    // Most points have no subscriber (the access log reads only `end`): return before the loop,
    // its iterator and its try block (~0.3–0.5 µs per call, four calls per request, in a profile).
    if (observers.length === 0) return;
    for (const observer of observers) {
      try {
        observer[point]?.(exchange);
      } catch (error) {
        this.logger.error({ err: error, observer: observer.name, point, reqId: exchange.requestId }, 'exchange observer failed');
      }
    }
  }

  notifyAttempt(exchange: Exchange, attempt: ExchangeAttempt): void {
    exchange.attempts.push(attempt);
    for (const observer of this.attemptObservers) {
      try {
        observer.attempt?.(exchange, attempt);
      } catch (error) {
        this.logger.error({ err: error, observer: observer.name, point: 'attempt', reqId: exchange.requestId }, 'exchange observer failed');
      }
    }
  }
}

/** The shared close task of one set of observers. */
function closeListenerOf(observers: ExchangeObservers): (response: EndingResponse) => void {
  return function endOnClose(response: EndingResponse): void {
    const request = response[endingRequest];
    if (request === undefined) return;
    response[endingRequest] = undefined;
    const clientAborted = !response.writableFinished;
    // An abort cancels the upstream call from another close task; its attempt settles a
    // few promise steps later. Ending on the next turn lets that attempt into the record.
    if (clientAborted) setImmediate(endExchange, observers, request, response.statusCode, true);
    else endExchange(observers, request, response.statusCode, false);
  };
}

/** Fills the record's outcome and end, then tells the `end` observers. */
function endExchange(observers: ExchangeObservers, request: FastifyRequest, status: number, clientAborted: boolean): void {
  const exchange = request.exchange;
  if (exchange === undefined) return;
  exchange.outcome = { status, errorCode: request.gatewayErrorCode, clientAborted };
  exchange.endedAt = Date.now();
  exchange.durationMs = elapsedMs(exchange);
  observers.notify('end', exchange);
}

/** Milliseconds since the exchange started, one decimal. */
export function elapsedMs(exchange: Exchange): number {
  return Math.round((performance.now() - exchange.startedAtMonotonic) * 10) / 10;
}
