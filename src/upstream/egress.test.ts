import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/gateway-error.js';
import type { SocketLookup } from '../egress/egress-guard.js';
import { UpstreamAbort, UpstreamClient } from './client.js';

/**
 * The egress guard on the upstream client's connect: a host name whose DNS answer is not public
 * is refused before any byte leaves (the loopback server below counts what reaches it), unless the
 * provider allows private networks. A fake resolver stands in for DNS where a real name cannot be
 * made to resolve to the metadata address.
 */
let server: Server;
let port: number;
let received = 0;

beforeAll(async () => {
  server = createServer((_request, response) => {
    received += 1;
    response.end('{"ok":true}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

/** Answers every name with `address` (what a rebinding or hostile DNS server would do). */
const resolvingTo =
  (address: string, family: 4 | 6 = 4): SocketLookup =>
  (_hostname, options, callback) => {
    if (options.all === true) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };

const send = (client: UpstreamClient, url: string, allowPrivateNetwork?: boolean) =>
  client
    .sendBuffered({ provider: 'p', url, headers: {}, body: '{}', signal: new UpstreamAbort(), ...(allowPrivateNetwork === undefined ? {} : { allowPrivateNetwork }) }, 1024)
    .then(
      (answer) => ({ status: answer.statusCode, code: undefined as string | undefined, retryable: undefined as boolean | undefined }),
      (error: unknown) => ({ status: 0, code: isGatewayError(error) ? error.code : String(error), retryable: isGatewayError(error) ? error.retryable : undefined }),
    );

const timeouts = { connectTimeoutMs: 2000, firstByteTimeoutMs: 2000, idleTimeoutMs: 2000, maxConnectionsPerOrigin: 4 };

describe('egress guard on upstream connects', () => {
  it('refuses `localhost` (resolves to loopback) without the flag, and nothing reaches the server', async () => {
    const client = new UpstreamClient(timeouts);
    const before = received;
    const refused = await send(client, `http://localhost:${port}/v1/chat/completions`);
    expect(refused).toEqual({ status: 0, code: 'GW_EGRESS_REFUSED', retryable: false });
    expect(received).toBe(before);
    await client.close();
  });

  it('allows the same name when the provider sets allow_private_network', async () => {
    const client = new UpstreamClient(timeouts);
    const before = received;
    expect(await send(client, `http://localhost:${port}/ok`, true)).toMatchObject({ status: 200 });
    expect(received).toBe(before + 1);
    await client.close();
  });

  it('refuses a name answering with the metadata address, also in its IPv4-mapped IPv6 form', async () => {
    for (const [address, family] of [['169.254.169.254', 4], ['::ffff:169.254.169.254', 6], ['fd00:ec2::254', 6]] as const) {
      const client = new UpstreamClient({ ...timeouts, resolve: resolvingTo(address, family) });
      expect(await send(client, `http://api.provider.test:${port}/v1`), address).toMatchObject({ code: 'GW_EGRESS_REFUSED' });
      await client.close();
    }
  });

  it('passes a name answering with a public address to the connect', async () => {
    // 127.0.0.1 would be refused; a public answer goes on to connect (here it is then refused by
    // the resolver's own server being absent, which shows the guard let it through).
    const client = new UpstreamClient({ ...timeouts, connectTimeoutMs: 300, resolve: resolvingTo('192.0.2.1') });
    const result = await send(client, `http://api.provider.test:${port}/v1`);
    expect(result.code).not.toBe('GW_EGRESS_REFUSED');
    await client.close();
  });

  it('does not follow a redirect, even to an allowed address', async () => {
    const target = createServer((_request, response) => response.end('{"reached":true}'));
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    let targetHits = 0;
    target.on('request', () => (targetHits += 1));
    const redirector = createServer((_request, response) => {
      response.writeHead(307, { location: `http://127.0.0.1:${(target.address() as AddressInfo).port}/` }).end();
    });
    redirector.listen(0, '127.0.0.1');
    await once(redirector, 'listening');
    const client = new UpstreamClient(timeouts);
    try {
      const answer = await send(client, `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/v1`, true);
      expect(answer.status).toBe(307); // handed to the caller as a status, never followed
      expect(targetHits).toBe(0);
    } finally {
      await client.close();
      redirector.close();
      target.close();
    }
  });
});
