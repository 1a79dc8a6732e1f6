import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP relay that makes one client's link to a server slow in one direction: every
 * chunk the client sends reaches the server `delayMs` after it arrived (in order), while answers
 * come back at once. Put between a gateway and its redis-server, it makes a command the gateway
 * fires without waiting for visibly late, so a test can tell "answered after the state changed"
 * from "answered, state changes later" without depending on how fast the machine is.
 */
export interface SlowLink {
  /** `redis://127.0.0.1:<port>`: where the client connects instead of the server. */
  readonly url: string;
  /** Milliseconds each client → server chunk is held; changed at any time (0: forwarded at once). */
  delayMs: number;
  close(): Promise<void>;
}

export async function startSlowLink(targetPort: number): Promise<SlowLink> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const link = { url: '', delayMs: 0, close: () => Promise.resolve() } as SlowLink;
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    track(client);
    track(upstream);
    // Each chunk is due `delayMs` after it arrived; a chain keeps the order of the bytes.
    let forwarding: Promise<void> = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      const dueAt = Date.now() + link.delayMs;
      forwarding = forwarding.then(async () => {
        const waitMs = dueAt - Date.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        if (!upstream.destroyed) upstream.write(chunk);
      });
    });
    client.on('end', () => void forwarding.then(() => upstream.end()));
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    upstream.on('end', () => client.end());
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', destroyBoth);
    upstream.on('error', destroyBoth);
    client.on('close', destroyBoth);
    upstream.on('close', destroyBoth);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return Object.assign(link, {
    url: `redis://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}
