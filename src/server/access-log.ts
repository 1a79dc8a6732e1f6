import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { loggableUrl } from '../security/loggable-url.js';
import { redactText, registeredSecretsGeneration } from '../security/redact.js';
import type { Exchange, ExchangeObserver } from './exchange.js';
import { accessLineSinkOf } from './logger.js';

/** pino's numeric level for `info`, the access line's level. */
const infoLevel = 30;

/** pino's standard levels; `silent` disables everything. */
const levelValues: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

interface LineSink {
  write(line: string): unknown;
}

/** The stream a pino logger writes to, or undefined for a logger that is not pino (tests, custom loggers). */
function pinoDestinationOf(logger: FastifyBaseLogger): LineSink | undefined {
  const destination = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as Partial<LineSink> | undefined;
  return typeof destination?.write === 'function' ? (destination as LineSink) : undefined;
}

/** At most this many URLs keep their logged form (a spray of distinct paths clears the cache, never grows it). */
const loggedUrlCacheSize = 64;

/** Longer URLs are not cached: the routes' own paths are short, a long one is rare or hostile. */
const loggedUrlCacheMaxLength = 256;

/**
 * The JSON-escaped logged form of each URL seen recently, for URLs that `loggableUrl` leaves as
 * they are (a route's plain path: most requests hit a handful of them). Only such URLs are kept, so
 * the cache holds no text that would not go to the log verbatim anyway; it is emptied when the
 * registered secrets change (a URL logged as-is before may contain a newly registered one).
 * Saves the redactor's regular expressions and the URL's escaping on nearly every request.
 */
class LoggedUrls {
  #forms = new Map<string, string>();
  #generation = registeredSecretsGeneration();

  of(url: string): string {
    const generation = registeredSecretsGeneration();
    if (generation !== this.#generation) {
      this.#forms.clear();
      this.#generation = generation;
    }
    const cached = this.#forms.get(url);
    if (cached !== undefined) return cached;
    const logged = loggableUrl(url);
    const form = JSON.stringify(logged);
    if (logged === url && url.length <= loggedUrlCacheMaxLength) {
      if (this.#forms.size >= loggedUrlCacheSize) this.#forms.clear();
      this.#forms.set(url, form);
    }
    return form;
  }
}

/**
 * The JSON form of names that repeat on every line (key ids, provider names, error codes: all from
 * the config or the catalog), escaped once each; bounded, a full cache is emptied.
 */
class JsonNames {
  #forms = new Map<string, string>();

  of(name: string): string {
    let form = this.#forms.get(name);
    if (form === undefined) {
      form = JSON.stringify(name);
      if (this.#forms.size >= 256) this.#forms.clear();
      this.#forms.set(name, form);
    }
    return form;
  }
}

/**
 * The access log, the first subscriber of the per-request record (exchange.ts): at the record's
 * end, one JSON line in pino's own line format (`level`, `time`, `reqId`, fields, `msg`), written
 * straight to the logger's destination (buffered stdout in production). A request whose client went
 * away before the answer was complete gets its line too, with `"aborted":true`.
 *
 * Why not `request.log.info(...)`: that path builds a child logger per request, serialises an
 * object through pino's generic machinery and then re-scans the whole finished line with the
 * redactor, ~3 µs plus its garbage on every request. Here the line is one string concatenation.
 *
 * Redaction is kept where a secret can be: the only client-controlled values in the line are the
 * URL (`?key=…`, a key pasted into a path) and a client-sent request id: the URL is logged through
 * `loggableUrl` (redacted after percent-decoding, known query parameters only), the id through
 * `redactText`, the same redactor the logger's sink applies. Every other value is ours: the method
 * (Node's HTTP parser accepts only known method tokens), numbers, and ids and names from the config
 * or the error catalog. All strings are JSON-escaped.
 *
 * Falls back to `logger.info` when the logger is not pino (then the sink's own redaction applies).
 */
export function createAccessLogObserver(logger: FastifyBaseLogger): ExchangeObserver {
  const destination = accessLineSinkOf(logger) ?? pinoDestinationOf(logger);
  if (destination === undefined) {
    return { name: 'access-log', end: (exchange) => logger.info({ reqId: exchange.requestId, ...accessFields(exchange) }, 'request') };
  }
  const enabled = (): boolean => (levelValues[logger.level] ?? infoLevel) <= infoLevel;
  const loggedUrls = new LoggedUrls();
  const namesJson = new JsonNames();
  // The logger's fixed fields, serialised once by pino (`,"worker":2` in a `serve --workers` worker; empty otherwise).
  const bindings = ((logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym] as string | undefined) ?? '';
  return {
    name: 'access-log',
    end(exchange) {
      if (!enabled()) return;
      const outcome = exchange.outcome;
      // The record's end time is the line's time (pino's `time` is the moment of logging: the same tick).
      // The method is a token of Node's HTTP parser and the address one Node or isIP produced: neither
      // holds a character JSON escapes. A request id the gateway generated is a UUID (the same); one
      // the client sent passes the redactor and is escaped.
      const requestId = exchange.requestId;
      const requestIdJson = exchange.requestIdFromClient ? JSON.stringify(redactText(requestId)) : `"${requestId}"`;
      let line = `{"level":${infoLevel},"time":${exchange.endedAt ?? Date.now()}${bindings},"reqId":${requestIdJson},"method":"${exchange.method}","url":${loggedUrls.of(exchange.url)},"status":${outcome?.status ?? 0},"ms":${exchange.durationMs ?? 0}`;
      if (exchange.clientIp !== undefined) line += `,"ip":"${exchange.clientIp}"`;
      if (exchange.principal !== undefined) line += `,"key_id":${namesJson.of(exchange.principal.id)}`;
      if (exchange.route !== undefined) line += `,"provider":${namesJson.of(exchange.route.provider)}`;
      if (outcome?.errorCode !== undefined) line += `,"code":${namesJson.of(outcome.errorCode)}`;
      if (outcome?.clientAborted === true) line += ',"aborted":true';
      destination.write(`${line},"msg":"request"}\n`);
    },
  };
}

function accessFields(exchange: Exchange): Record<string, unknown> {
  return {
    method: exchange.method,
    ip: exchange.clientIp,
    url: loggableUrl(exchange.url),
    status: exchange.outcome?.status,
    ms: exchange.durationMs,
    key_id: exchange.principal?.id,
    provider: exchange.route?.provider,
    code: exchange.outcome?.errorCode,
    ...(exchange.outcome?.clientAborted === true ? { aborted: true } : {}),
  };
}
