import { pino, type Logger } from 'pino';
import { redactText } from '../security/redact.js';

export interface LoggerOptions {
  level: string;
  /** Where JSON lines go; stdout when omitted. Tests pass a capture stream. */
  destination?: NodeJS.WritableStream;
  /** Fields on every line (`{ worker: 2 }` in a `serve --workers` worker); none by default. */
  base?: Record<string, string | number>;
}

/** Takes finished, already-redacted log lines (the access log writes through it). */
export interface LineSink {
  write(line: string): void;
}

/** The access-line batch of each logger that writes to buffered stdout. */
const accessBatches = new WeakMap<Logger, LineSink>();

/**
 * The sink the access log should write its finished lines to for `logger`: a batch in front of
 * buffered stdout, or undefined when the logger writes elsewhere (tests), where the access log
 * writes to pino's destination directly.
 */
export function accessLineSinkOf(logger: object): LineSink | undefined {
  return accessBatches.get(logger as Logger);
}

/**
 * pino JSON logs with the redactor as the last step before any byte is written: `streamWrite`
 * sees the final serialized line, so nothing a caller logs (headers, upstream bodies, error
 * causes) can bypass it. Header paths are also censored structurally as a second layer.
 */
export function createLogger(options: LoggerOptions): Logger {
  const pinoOptions = {
    level: options.level,
    base: options.base,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'req.headers["x-goog-api-key"]',
        'req.headers["x-management-key"]',
        'headers.authorization',
        'headers["x-api-key"]',
        'headers["x-goog-api-key"]',
        'headers["x-management-key"]',
      ],
      censor: '***',
    },
  };
  if (options.destination !== undefined) return pino({ ...pinoOptions, hooks: { streamWrite: redactText } }, options.destination);
  // Registered before pino's own exit flush (which ends the stream), so the batch still gets in.
  process.once('exit', () => {
    batch.drain();
    destination.flushSync();
  });
  const destination = bufferedStdout();
  const batch = new LineBatch(destination);
  // Any other line first pushes the pending access lines out, so lines keep their order.
  const logger = pino({ ...pinoOptions, hooks: { streamWrite: (line: string) => (batch.drain(), redactText(line)) } }, destination);
  setInterval(() => {
    batch.drain();
    destination.flush();
  }, flushIntervalMs).unref();
  accessBatches.set(logger, batch);
  return logger;
}

/** Access lines are handed to the stdout buffer in batches of this many bytes (4 KiB). */
const batchBytes = 4096;

/**
 * Collects access lines and hands them to sonic-boom as one string per batch. sonic-boom measures
 * its whole pending buffer (`Buffer.byteLength`, which flattens the string) on every write, ~4 µs
 * per line when it is fed one line at a time; an array and one join per batch cost ~0.3 µs.
 */
class LineBatch implements LineSink {
  #lines: string[] = [];
  #bytes = 0;

  constructor(private readonly destination: { write(text: string): unknown }) {}

  write(line: string): void {
    this.#lines.push(line);
    this.#bytes += line.length;
    if (this.#bytes >= batchBytes) this.drain();
  }

  drain(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.join('');
    this.#lines = [];
    this.#bytes = 0;
    this.destination.write(text);
  }
}

/**
 * Log bytes are written once this many have accumulated (12 KiB, below sonic-boom's 16 KiB
 * maxWrite). Each write is a thread-pool round trip that costs ~100 µs of CPU on a busy core
 * (measured with --cpu-prof), so fewer, larger writes are what keeps the access log cheap.
 */
const bufferBytes = 12 * 1024;

/** Buffered log bytes (access batch and stdout buffer) are flushed at least this often (ms), so a quiet gateway's logs still appear. */
const flushIntervalMs = 250;

/**
 * stdout through sonic-boom with a 12 KiB buffer: one write(2) per ~60 access-log lines instead of
 * one per line. The price is bounded: at most 250 ms of log lines (the 4 KiB access batch and the
 * 12 KiB buffer) are lost if the process is killed with SIGKILL; on a normal exit the batch is
 * drained and the buffer flushed synchronously.
 */
function bufferedStdout(): ReturnType<typeof pino.destination> {
  return pino.destination({ dest: 1, sync: false, minLength: bufferBytes });
}
