import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible upstream that holds every chat answer until the test releases it, so a test
 * can have N requests in flight at once and decide when they finish (budget and concurrency tests:
 * nothing settles while the admissions are decided). Loopback only; answers non-streamed JSON with
 * the usage the test sets.
 */
export interface HeldUpstream {
  /** `http://127.0.0.1:PORT/v1`. */
  readonly baseUrl: string;
  /** Requests received so far. */
  readonly received: () => number;
  /** Resolves once `count` requests have arrived. */
  waitForReceived(count: number, timeoutMs?: number): Promise<void>;
  /** Answers every held request (and, from now on, every new one at once). */
  release(): void;
  /** Holds new requests again. */
  hold(): void;
  usage: { prompt_tokens: number; completion_tokens: number };
  close(): Promise<void>;
}

export async function startHeldUpstream(): Promise<HeldUpstream> {
  const held: ServerResponse[] = [];
  let holding = true;
  let received = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const state = { usage: { prompt_tokens: 10, completion_tokens: 5 } };
  const answer = (response: ServerResponse) => {
    if (response.destroyed) return;
    const body = JSON.stringify({
      id: 'chatcmpl-held',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
      usage: { ...state.usage, total_tokens: state.usage.prompt_tokens + state.usage.completion_tokens },
    });
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      received += 1;
      for (const waiter of waiters.filter((entry) => received >= entry.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      if (holding) held.push(response);
      else answer(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    received: () => received,
    get usage() {
      return state.usage;
    },
    set usage(value) {
      state.usage = value;
    },
    waitForReceived(count, timeoutMs = 10_000) {
      if (received >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`held upstream: ${received} of ${count} requests arrived`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    release() {
      holding = false;
      for (const response of held.splice(0)) answer(response);
    },
    hold() {
      holding = true;
    },
    close: async () => {
      for (const response of held.splice(0)) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
