import { createServer, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { offResponseClose, onResponseClose } from './response-close.js';

/** One real request on loopback: `handle` gets the server's response; resolves once it closed and the tasks ran. */
async function withResponse(handle: (response: ServerResponse, clientGone: Promise<void>) => void, abortClient = false): Promise<void> {
  const server = createServer();
  let closed!: () => void;
  const responseClosed = new Promise<void>((resolve) => (closed = resolve));
  server.on('request', (_request, response: ServerResponse) => {
    response.on('close', () => setImmediate(closed));
    handle(response, responseClosed);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = httpRequest({ host: '127.0.0.1', port, path: '/' }, (answer) => answer.resume());
  client.on('error', () => undefined);
  client.end();
  if (abortClient) setTimeout(() => client.destroy(), 20);
  await responseClosed;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('onResponseClose', () => {
  it('runs every task once, in the order added, after a normal finish, with one close listener', async () => {
    const ran: string[] = [];
    let listeners = -1;
    await withResponse((response) => {
      const before = response.listenerCount('close');
      onResponseClose(response, () => ran.push('first'));
      onResponseClose(response, () => ran.push('second'));
      onResponseClose(response, (closed) => ran.push(closed === response ? 'third' : 'wrong response'));
      listeners = response.listenerCount('close') - before;
      response.end('done');
    });
    expect(ran).toEqual(['first', 'second', 'third']);
    expect(listeners).toBe(1);
  });

  it('runs the tasks when the client goes away before the answer, and not a task taken back', async () => {
    const ran: string[] = [];
    await withResponse((response) => {
      const undone = (): void => void ran.push('taken back');
      onResponseClose(response, () => ran.push(response.writableFinished ? 'finished' : 'aborted'));
      onResponseClose(response, undone);
      offResponseClose(response, undone);
      // never answered: the client hangs up
    }, true);
    expect(ran).toEqual(['aborted']);
  });

  it('runs a task added after the close on the next tick, instead of never', async () => {
    const ran: string[] = [];
    let late: Promise<void> | undefined;
    await withResponse((response, gone) => {
      late = gone.then(async () => {
        expect(response.closed).toBe(true);
        onResponseClose(response, () => ran.push('late'));
        expect(ran).toEqual([]); // not synchronously: the caller finishes its own step first
        await new Promise((resolve) => process.nextTick(resolve));
      });
    }, true);
    await late;
    expect(ran).toEqual(['late']);
  });
});
