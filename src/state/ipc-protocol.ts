/**
 * The messages between a `serve --workers N` worker's {@link IpcStateBackend} (ipc-client.ts) and
 * the primary's memory backend (ipc-server.ts), sent over the cluster's IPC channel. Every message
 * carries `scope: 'state'`, so the cluster's own messages (listening, reload, shutdown) share the
 * channel without being mistaken for state calls.
 *
 * Everything a call carries is plain data (leases, bucket takes, decisions): JSON over the channel.
 */

/** The backend methods a worker may call on the primary's store (a closed list: nothing else runs). */
export const ipcStateMethods = [
  'tryLock',
  'unlock',
  'isLocked',
  'setValue',
  'getValue',
  'deleteKeys',
  'increment',
  'takeTokens',
  'adjustTokens',
  'ban',
  'unban',
  'listBans',
  'publish',
] as const;

export type IpcStateMethod = (typeof ipcStateMethods)[number];

export type WorkerToPrimaryStateMessage =
  | { scope: 'state'; type: 'call'; id: number; method: IpcStateMethod; args: unknown[] }
  | { scope: 'state'; type: 'subscribe'; id: number; channel: string }
  | { scope: 'state'; type: 'unsubscribe'; id: number; subscription: number };

export type PrimaryToWorkerStateMessage =
  | { scope: 'state'; type: 'result'; id: number; ok: true; value: unknown }
  | { scope: 'state'; type: 'result'; id: number; ok: false; message: string }
  | { scope: 'state'; type: 'message'; subscription: number; message: string };

/**
 * One end of a message channel: `process` in a worker (`process.send`, `process.on('message')`),
 * a `cluster.Worker` in the primary; an in-memory pair in the unit tests.
 */
export interface MessageChannel {
  send(message: unknown): void;
  /** Adds a listener for every incoming message; the returned function removes it. */
  onMessage(listener: (message: unknown) => void): () => void;
}

/** True for a message of this protocol (a plain object tagged `scope: 'state'`). */
export function isStateMessage(message: unknown): message is { scope: 'state'; type: string } {
  return typeof message === 'object' && message !== null && (message as { scope?: unknown }).scope === 'state';
}
