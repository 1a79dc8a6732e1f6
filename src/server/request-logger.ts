import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

/** What Fastify hands its child logger factory besides the parent: the request's bindings and options. */
type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;
type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Fastify gives every request a child logger bound to its id (`logger.child({ reqId })`); pino
 * serialises the bindings at once, ~1–2 µs and two objects per request (`bench/profile.mjs`:
 * `child`, `stringify`, `defaultChildLoggerFactory`), although a request that goes well logs
 * nothing through it: its access line is the access log's (access-log.ts). This stand-in makes the
 * real child on the first line the request logs, with the same bindings and options, so every line
 * still carries `reqId`.
 */
class LazyRequestLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;
  #level: string | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  private real(): FastifyBaseLogger {
    if (this.#child === undefined) {
      this.#child = this.parent.child(this.bindings, this.options);
      if (this.#level !== undefined) this.#child.level = this.#level;
    }
    return this.#child;
  }

  get level(): string {
    return this.#child?.level ?? this.#level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    if (this.#child === undefined) this.#level = level;
    else this.#child.level = level;
  }

  /** One line through the real child (pino's methods need it as `this`). */
  private write(level: LevelName, args: unknown[]): void {
    const real = this.real();
    Reflect.apply(real[level], real, args);
  }

  // Prototype methods, not per-instance closures: a request that logs nothing allocates one small object.
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  silent(...args: unknown[]): void {
    this.write('silent', args);
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: the per-request logger, made when first used. */
export const lazyRequestLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) => new LazyRequestLogger(logger, bindings, options);
