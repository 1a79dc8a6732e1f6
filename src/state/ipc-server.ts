import { ipcStateMethods, isStateMessage, type MessageChannel, type WorkerToPrimaryStateMessage } from './ipc-protocol.js';
import type { StateBackend } from './types.js';

/** What serving one worker holds: its subscriptions on the primary's store. */
export interface IpcStateServer {
  /** Ends this worker's subscriptions (it exited or was replaced) and stops answering it. */
  close(): Promise<void>;
}

const allowedMethods: ReadonlySet<string> = new Set(ipcStateMethods);

/**
 * The primary's side of {@link IpcStateBackend} (ipc-client.ts): answers one worker's calls on the
 * primary's own backend, and forwards the messages of the channels that worker subscribed to.
 *
 * The primary's event loop runs one call at a time and the memory backend does each call without
 * awaiting, so a take of several buckets is atomic across workers, as a Redis script is across
 * replicas. Only the methods of the closed list in ipc-protocol.ts can be called: a message naming
 * anything else (`close`, a property of the object) is answered with an error, never run.
 */
export function serveStateOverIpc(backend: StateBackend, channel: MessageChannel): IpcStateServer {
  const subscriptions = new Map<number, () => Promise<void>>();
  let nextSubscription = 1;
  let closed = false;

  const answer = (id: number, outcome: { ok: true; value: unknown } | { ok: false; message: string }) => {
    if (closed) return;
    try {
      channel.send({ scope: 'state', type: 'result', id, ...outcome });
    } catch {
      // The worker is gone; its exit closes this server.
    }
  };

  const run = async (message: WorkerToPrimaryStateMessage): Promise<unknown> => {
    if (message.type === 'subscribe') {
      const subscription = nextSubscription++;
      const end = await backend.subscribe(message.channel, (text) => {
        if (closed) return;
        try {
          channel.send({ scope: 'state', type: 'message', subscription, message: text });
        } catch {
          // The worker is gone.
        }
      });
      subscriptions.set(subscription, end);
      return subscription;
    }
    if (message.type === 'unsubscribe') {
      const end = subscriptions.get(message.subscription);
      subscriptions.delete(message.subscription);
      await end?.();
      return true;
    }
    if (!allowedMethods.has(message.method) || !Array.isArray(message.args)) throw new Error(`unknown state method ${String(message.method)}`);
    const method = Reflect.get(backend, message.method) as (this: StateBackend, ...args: unknown[]) => Promise<unknown>;
    return method.apply(backend, message.args);
  };

  const stopListening = channel.onMessage((message) => {
    if (!isStateMessage(message)) return;
    const request = message as WorkerToPrimaryStateMessage;
    if (typeof request.id !== 'number') return;
    run(request).then(
      (value) => answer(request.id, { ok: true, value }),
      (error: unknown) => answer(request.id, { ok: false, message: (error as Error).message }),
    );
  });

  return {
    async close() {
      closed = true;
      stopListening();
      const ends = [...subscriptions.values()];
      subscriptions.clear();
      await Promise.all(ends.map((end) => end().catch(() => undefined)));
    },
  };
}
