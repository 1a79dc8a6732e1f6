import { errors as undiciErrors } from 'undici';

/** Receives a streamed upstream body (see UpstreamBody.attach). */
export interface UpstreamBodySink {
  onData(piece: Buffer): void;
  onEnd(): void;
  /** A transport failure, a timeout, or the abort (then the UpstreamAbort has fired). */
  onError(error: Error): void;
}

/**
 * A streamed upstream body delivered through callbacks, without a Readable: undici's `request()`
 * wraps every piece in a stream push, a 'data' event and its bookkeeping, and a 20-chunk SSE answer
 * arrives as 20+ pieces. Pieces that arrive before `attach` are kept (the caller attaches one
 * microtask after the headers). Backpressure: `pause()` makes undici stop reading the upstream
 * socket until `resume()`.
 */
export class UpstreamBody {
  #sink: UpstreamBodySink | undefined;
  #pending: Buffer[] = [];
  #ended = false;
  #failure: Error | undefined;
  #paused = false;
  #closed = false;

  constructor(
    private readonly resumeUpstream: () => void,
    private readonly abortUpstream: (error: Error) => void,
  ) {}

  /** For the dispatch handler: a piece arrived; false asks undici to pause. */
  push(piece: Buffer): boolean {
    if (this.#closed) return true;
    if (this.#sink === undefined) this.#pending.push(piece);
    else this.#sink.onData(piece);
    return !this.#paused;
  }

  /** For the dispatch handler: the body is complete. */
  end(): void {
    if (this.#closed) return;
    if (this.#sink === undefined) this.#ended = true;
    else {
      this.#closed = true;
      this.#sink.onEnd();
    }
  }

  /** For the dispatch handler: the body failed. */
  fail(error: Error): void {
    if (this.#closed) return;
    if (this.#sink === undefined) this.#failure = error;
    else {
      this.#closed = true;
      this.#sink.onError(error);
    }
  }

  attach(sink: UpstreamBodySink): void {
    this.#sink = sink;
    const pending = this.#pending;
    this.#pending = [];
    for (const piece of pending) {
      if (this.#closed) return;
      sink.onData(piece);
    }
    if (this.#ended) this.end();
    else if (this.#failure !== undefined) this.fail(this.#failure);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.resumeUpstream();
  }

  /** Stops reading and releases the upstream request; no callback fires afterwards. */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.abortUpstream(new undiciErrors.RequestAbortedError());
  }

  get destroyed(): boolean {
    return this.#closed;
  }

  /** Reads at most `limitBytes` as text (an error body), then releases the request. Never rejects. */
  readText(limitBytes: number): Promise<string> {
    return new Promise<string>((resolve) => {
      const pieces: Buffer[] = [];
      let total = 0;
      const done = (): void => resolve(Buffer.concat(pieces).subarray(0, limitBytes).toString('utf8'));
      this.attach({
        onData: (piece) => {
          pieces.push(piece);
          total += piece.length;
          if (total >= limitBytes) {
            this.destroy();
            done();
          }
        },
        onEnd: done,
        // A body that fails part-way still yields what arrived; the status code alone is enough to map.
        onError: done,
      });
    });
  }
}
