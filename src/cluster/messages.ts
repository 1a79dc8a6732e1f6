import type { ProviderSwitchChange } from '../management/provider-switch.js';
import type { MessageChannel } from '../state/ipc-protocol.js';

/**
 * The control messages of `serve --workers N` between the primary and its workers, beside the
 * state calls (state/ipc-protocol.ts) on the same IPC channel. Tagged `scope: 'cluster'`.
 */
export type WorkerToPrimaryMessage =
  | { scope: 'cluster'; type: 'listening'; url: string; port: number }
  /** A scrape reached this worker: gather every worker's metrics (metrics-gathering.ts). */
  | { scope: 'cluster'; type: 'metrics-request'; id: number }
  /** This worker's own exposition, for the gathering `id`. */
  | { scope: 'cluster'; type: 'metrics-part'; id: number; text: string }
  /** The management API switched a provider off or on in this worker: every worker must follow. */
  | { scope: 'cluster'; type: 'provider-switch'; change: ProviderSwitchChange };

export type PrimaryToWorkerMessage =
  /** The config or client-key file changed and the primary loaded it without error: load it again and apply it. */
  | { scope: 'cluster'; type: 'reload' }
  /** Stop accepting, finish in-flight requests (up to `server.timeouts.shutdown_grace_ms`), exit. */
  | { scope: 'cluster'; type: 'shutdown' }
  /** Send your own exposition as a `metrics-part` of gathering `id`. */
  | { scope: 'cluster'; type: 'metrics-collect'; id: number }
  /** The answer to `metrics-request` `id`: every part that arrived in time, and how many workers there are. */
  | { scope: 'cluster'; type: 'metrics-result'; id: number; texts: string[]; workers: number }
  /** A provider switched in another worker (or before this one started): apply it here. */
  | { scope: 'cluster'; type: 'provider-switch'; change: ProviderSwitchChange };

/** Set in a worker's environment by the primary: the `serve` command then runs as that worker. */
export const workerEnvironmentName = 'CLIPROXYAPI_CLUSTER_WORKER';

/**
 * The providers switched off when a worker is forked (JSON of ProviderSwitchChange[]), in its
 * environment: applied before it reports listening, so a replacement never serves a switched-off
 * provider while its IPC listener is not attached yet.
 */
export const providerSwitchesEnvironmentName = 'CLIPROXYAPI_PROVIDER_SWITCHES';

/** The switches handed to a worker at its fork; malformed or absent → none. */
export function providerSwitchesFromEnvironment(value: string | undefined): ProviderSwitchChange[] {
  if (value === undefined || value === '') return [];
  try {
    const parsed = JSON.parse(value) as unknown;
    return Array.isArray(parsed) ? (parsed as ProviderSwitchChange[]).filter((change) => change.action === 'disable' && typeof change.entry?.name === 'string') : [];
  } catch {
    return [];
  }
}

/** The tag of the control messages, or undefined for anything else on the channel. */
export function clusterMessageType(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const tagged = message as { scope?: unknown; type?: unknown };
  return tagged.scope === 'cluster' && typeof tagged.type === 'string' ? tagged.type : undefined;
}

/** A worker process's end of the IPC channel to its primary. */
export function processChannel(): MessageChannel {
  return {
    send(message) {
      if (process.send === undefined || !process.connected) throw new Error('the primary process is gone');
      process.send(message);
    },
    onMessage(listener) {
      process.on('message', listener);
      return () => void process.off('message', listener);
    },
  };
}
