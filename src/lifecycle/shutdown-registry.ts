/**
 * The one list of what the process must close at shutdown. The composition root (src/main.ts)
 * registers each part right after creating it, so the list is in creation order, and closes them
 * in reverse: what was created last depends on what came before (the HTTP server sends through the
 * upstream client, the OAuth refresher uses the state backend), so it stops first.
 *
 * The same list serves a start that fails half-way: whatever was already created is closed, in
 * the same order, instead of leaving a scheduler or a Redis connection behind.
 */
export interface ShutdownStep {
  /** For the log line when closing it fails (`http server`, `state backend`). */
  readonly name: string;
  readonly close: () => Promise<void> | void;
}

export interface ShutdownRegistryOptions {
  /** Told about each step that failed; the other steps still run. */
  onError?: (name: string, error: unknown) => void;
}

export class ShutdownRegistry {
  private readonly steps: ShutdownStep[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ShutdownRegistryOptions = {}) {}

  /** Adds a part to close; call it right after the part exists. Refused once closing has begun. */
  add(name: string, close: () => Promise<void> | void): void {
    if (this.closing !== undefined) throw new Error(`cannot register '${name}' for shutdown: the process is already closing`);
    this.steps.push({ name, close });
  }

  /** Names in the order they will be closed (the reverse of registration). */
  get closeOrder(): string[] {
    return this.steps.map((step) => step.name).reverse();
  }

  /**
   * Runs one step of the start. If it throws, everything registered so far is closed (a failure
   * there is only reported, through onError) and the start's own error is rethrown.
   */
  async closeOnFailure<T>(start: () => Promise<T> | T): Promise<T> {
    try {
      return await start();
    } catch (error) {
      await this.closeAll().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Closes every part, last registered first, one after the other. A step that throws is reported
   * and the rest still close; the first failure is rethrown at the end, so the caller still learns
   * that shutdown was not clean. Calling it again returns the same promise.
   */
  closeAll(): Promise<void> {
    this.closing ??= this.runSteps();
    return this.closing;
  }

  private async runSteps(): Promise<void> {
    const failures: unknown[] = [];
    for (const step of [...this.steps].reverse()) {
      try {
        await step.close();
      } catch (error) {
        failures.push(error);
        this.options.onError?.(step.name, error);
      }
    }
    if (failures.length > 0) throw failures[0];
  }
}
