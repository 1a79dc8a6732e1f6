import { ExpositionWriter } from '../metrics/exposition.js';
import { mergeExpositions } from '../metrics/aggregate.js';
import type { MessageChannel } from '../state/ipc-protocol.js';
import { clusterMessageType, type PrimaryToWorkerMessage, type WorkerToPrimaryMessage } from './messages.js';

/**
 * `/metrics` under `serve --workers N` reports the cluster, not the one worker the scrape happened
 * to reach. The scrape's worker asks the primary (`metrics-request`); the primary asks every
 * listening worker for its own exposition (`metrics-collect`, the asking worker included), waits
 * for the parts up to `partTimeoutMs`, and hands them back (`metrics-result`); the asking worker
 * merges them (metrics/aggregate.ts: counters and histograms summed, shared-state gauges not) and
 * adds two gauges saying how many workers there are and how many answered, so a scrape taken while
 * a worker was being replaced is visible as such rather than as a drop in traffic.
 *
 * The numbers travel over the cluster's IPC channel, as the state calls do; nothing leaves the host.
 */

/** How long the primary waits for the workers' parts (a worker busy with a long synchronous task may miss it). */
export const partTimeoutMs = 2_000;
/** How long the asking worker waits for the primary's answer before the scrape fails. */
export const resultTimeoutMs = partTimeoutMs + 3_000;

/** The primary's view of one worker: can it be asked, and how to send to it. */
export interface GatheringTarget {
  readonly listening: boolean;
  send(message: PrimaryToWorkerMessage): void;
}

/** The primary's side: answers `metrics-request`s and routes `metrics-part`s to their gathering. */
export class MetricsGathering {
  private nextId = 1;
  private readonly open = new Map<number, { expected: number; texts: string[]; finish: () => void }>();

  constructor(private readonly targets: () => readonly GatheringTarget[], private readonly workers: number) {}

  /** Called with every message a worker sends; true when it was one of the gathering's. */
  handle(from: GatheringTarget, message: unknown): boolean {
    const type = clusterMessageType(message);
    if (type === 'metrics-request') {
      this.gather((message as { id: number }).id, from);
      return true;
    }
    if (type === 'metrics-part') {
      const part = message as Extract<WorkerToPrimaryMessage, { type: 'metrics-part' }>;
      const gathering = this.open.get(part.id);
      if (gathering !== undefined && typeof part.text === 'string') {
        gathering.texts.push(part.text);
        if (gathering.texts.length >= gathering.expected) gathering.finish();
      }
      return true;
    }
    return false;
  }

  private gather(requestId: number, requester: GatheringTarget): void {
    const id = this.nextId++;
    const asked = this.targets().filter((target) => target.listening);
    const texts: string[] = [];
    const finish = (): void => {
      if (!this.open.delete(id)) return;
      clearTimeout(timer);
      try {
        requester.send({ scope: 'cluster', type: 'metrics-result', id: requestId, texts, workers: this.workers });
      } catch {
        // The asking worker is gone; its scrape went with it.
      }
    };
    this.open.set(id, { expected: asked.length, texts, finish });
    const timer = setTimeout(finish, partTimeoutMs);
    timer.unref();
    for (const target of asked) {
      try {
        target.send({ scope: 'cluster', type: 'metrics-collect', id });
      } catch {
        // A worker that died meanwhile: it is simply missing from this scrape.
      }
    }
    if (asked.length === 0) finish();
  }
}

/** The worker's side: answers the primary's `metrics-collect` and asks for the cluster's exposition. */
export interface ClusterMetricsClient {
  /** The merged exposition of every worker that answered in time. Rejects when the primary does not answer. */
  collect(): Promise<string>;
  /** Stops listening (shutdown). */
  close(): void;
}

export function createClusterMetricsClient(channel: MessageChannel, renderOwn: () => string): ClusterMetricsClient {
  let nextId = 1;
  const waiting = new Map<number, { resolve: (text: string) => void; timer: NodeJS.Timeout }>();
  const stopListening = channel.onMessage((message) => {
    const type = clusterMessageType(message);
    if (type === 'metrics-collect') {
      channel.send({ scope: 'cluster', type: 'metrics-part', id: (message as { id: number }).id, text: renderOwn() } satisfies WorkerToPrimaryMessage);
    } else if (type === 'metrics-result') {
      const result = message as Extract<PrimaryToWorkerMessage, { type: 'metrics-result' }>;
      const entry = waiting.get(result.id);
      if (entry === undefined) return;
      waiting.delete(result.id);
      clearTimeout(entry.timer);
      entry.resolve(mergeExpositions([...result.texts, workerGauges(result.workers, result.texts.length)]));
    }
  });
  return {
    collect() {
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error('the cluster primary did not answer the metrics request'));
        }, resultTimeoutMs);
        waiting.set(id, { resolve, timer });
        try {
          channel.send({ scope: 'cluster', type: 'metrics-request', id } satisfies WorkerToPrimaryMessage);
        } catch (error) {
          waiting.delete(id);
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    },
    close() {
      stopListening();
      for (const entry of waiting.values()) clearTimeout(entry.timer);
      waiting.clear();
    },
  };
}

function workerGauges(workers: number, reporting: number): string {
  return new ExpositionWriter()
    .family('cliproxy_cluster_workers', 'gauge', 'Worker processes of serve --workers N (N).')
    .sample('cliproxy_cluster_workers', [], workers)
    .family('cliproxy_cluster_workers_reporting', 'gauge', 'Workers whose numbers are in this scrape (fewer than N while one is being replaced or did not answer in time).')
    .sample('cliproxy_cluster_workers_reporting', [], reporting)
    .text();
}
