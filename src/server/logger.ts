import { pino, type Logger } from 'pino';
import { redactText } from '../security/redact.js';

export interface LoggerOptions {
  level: string;
  /** Where JSON lines go; stdout when omitted. Tests pass a capture stream. */
  destination?: NodeJS.WritableStream;
}

/**
 * pino JSON logs with the redactor as the last step before any byte is written: `streamWrite`
 * sees the final serialized line, so nothing a caller logs (headers, upstream bodies, error
 * causes) can bypass it. Header paths are also censored structurally as a second layer.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-api-key"]',
          'req.headers["x-goog-api-key"]',
          'headers.authorization',
          'headers["x-api-key"]',
          'headers["x-goog-api-key"]',
        ],
        censor: '***',
      },
      hooks: { streamWrite: redactText },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
