import type { ServerResponse } from 'node:http';

/**
 * Work that runs when a response closes — after a normal finish and after a client abort alike —
 * for the per-request layers that end or settle something then: the record's end (exchange.ts),
 * the key's and the provider's reservations (request-limits.ts), the upstream abort
 * (chat-pipeline.ts). One shared `close` listener per response runs them in the order they were
 * added: a listener each cost an `_addListener`, a listener array and its copy at every emit, about
 * 0.3 µs apiece in the profiles. A task added to a response that has already closed (its client
 * left while the request waited, say for a Redis-held limit) runs on the next tick, instead of
 * waiting for a `close` that will not come again.
 */
export type CloseTask = (response: ServerResponse) => void;

const tasksOf = Symbol('response-close-tasks');
type ClosingResponse = ServerResponse & { [tasksOf]?: CloseTask[] | undefined };

export function onResponseClose(response: ServerResponse, task: CloseTask): void {
  if (response.closed) {
    process.nextTick(task, response);
    return;
  }
  const closing = response as ClosingResponse;
  const tasks = closing[tasksOf];
  if (tasks !== undefined) {
    tasks.push(task);
    return;
  }
  closing[tasksOf] = [task];
  response.on('close', runCloseTasks);
}

/** Takes back a task that has not run yet (a reservation undone before its request was sent). */
export function offResponseClose(response: ServerResponse, task: CloseTask): void {
  const tasks = (response as ClosingResponse)[tasksOf];
  const at = tasks === undefined ? -1 : tasks.lastIndexOf(task);
  if (at !== -1) tasks?.splice(at, 1);
}

function runCloseTasks(this: ClosingResponse): void {
  const tasks = this[tasksOf];
  if (tasks === undefined) return;
  this[tasksOf] = undefined;
  for (const task of tasks) task(this);
}
