import { pino } from 'pino';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { redactText } from '../security/redact.js';
import { accessLineSinkOf } from './logger.js';

/** pino's numeric level for `info`, the access line's level. */
const infoLevel = 30;

/** pino's standard levels; `silent` disables everything. */
const levelValues: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** Writes one access-log line for a finished request. */
export type AccessLogWriter = (request: FastifyRequest, reply: FastifyReply) => void;

interface LineSink {
  write(line: string): unknown;
}

/** The stream a pino logger writes to, or undefined for a logger that is not pino (tests, custom loggers). */
function pinoDestinationOf(logger: FastifyBaseLogger): LineSink | undefined {
  const destination = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as Partial<LineSink> | undefined;
  return typeof destination?.write === 'function' ? (destination as LineSink) : undefined;
}

/**
 * The access log: one JSON line per request, in pino's own line format (`level`, `time`, `reqId`,
 * fields, `msg`), written straight to the logger's destination (buffered stdout in production).
 *
 * Why not `request.log.info(...)`: that path builds a child logger per request, serialises an
 * object through pino's generic machinery and then re-scans the whole finished line with the
 * redactor, ~3 µs plus its garbage on every request. Here the line is one string concatenation.
 *
 * Redaction is kept where a secret can be: the only client-controlled values in the line are the
 * URL (`?key=…`, a key pasted into a path) and a client-sent request id, and both go through
 * `redactText`, the same redactor the logger's sink applies. Every other value is ours: the method
 * (Node's HTTP parser accepts only known method tokens), numbers, and ids and names from the config
 * or the error catalog. All strings are JSON-escaped.
 *
 * Falls back to `logger.info` when the logger is not pino (then the sink's own redaction applies).
 */
export function createAccessLogWriter(logger: FastifyBaseLogger): AccessLogWriter {
  const destination = accessLineSinkOf(logger) ?? pinoDestinationOf(logger);
  if (destination === undefined) {
    return (request, reply) => {
      logger.info({ reqId: request.id, ...accessFields(request, reply) }, 'request');
    };
  }
  const enabled = (): boolean => (levelValues[logger.level] ?? infoLevel) <= infoLevel;
  return (request, reply) => {
    if (!enabled()) return;
    let line = `{"level":${infoLevel},"time":${Date.now()},"reqId":${JSON.stringify(redactText(request.id))},"method":${JSON.stringify(request.method)},"url":${JSON.stringify(redactText(request.url))},"status":${reply.statusCode},"ms":${elapsedMs(reply)}`;
    if (request.clientKeyId !== undefined) line += `,"key_id":${JSON.stringify(request.clientKeyId)}`;
    if (request.routedProvider !== undefined) line += `,"provider":${JSON.stringify(request.routedProvider)}`;
    if (request.gatewayErrorCode !== undefined) line += `,"code":${JSON.stringify(request.gatewayErrorCode)}`;
    destination.write(`${line},"msg":"request"}\n`);
  };
}

/** Milliseconds with one decimal. */
function elapsedMs(reply: FastifyReply): number {
  return Math.round(reply.elapsedTime * 10) / 10;
}

function accessFields(request: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
  return {
    method: request.method,
    url: redactText(request.url),
    status: reply.statusCode,
    ms: elapsedMs(reply),
    key_id: request.clientKeyId,
    provider: request.routedProvider,
    code: request.gatewayErrorCode,
  };
}
