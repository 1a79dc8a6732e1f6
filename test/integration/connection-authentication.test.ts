import { Agent, request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyReload } from '../../src/main.js';
import { createClientKey, revokeClientKey } from '../../src/security/client-keys.js';
import { sameKey } from '../../src/server/hooks/authenticate.js';
import { generateTestClientKey, startTestGateway, type StartTestGatewayOptions, type TestGateway } from '../helpers/gateway.js';

/**
 * The authenticate hook keeps the key that last authenticated on a keep-alive connection, so the
 * next request on it skips the hash. These requests go over ONE connection (an agent with a single
 * socket; the local port shows it is the same) and show the kept key opens nothing else: another
 * key is refused, and a key revoked by a reload is refused on the connection that used it.
 */
const options: StartTestGatewayOptions = { providers: {}, extra: { auth: { client_keys_file: './keys/client-keys.json' } } };

let testGateway: TestGateway;
let agent: Agent;
beforeEach(async () => {
  testGateway = await startTestGateway(options);
  agent = new Agent({ keepAlive: true, maxSockets: 1 });
});
afterEach(async () => {
  agent.destroy();
  await testGateway.stop();
});

/** GET /v1/models with `key` over the agent's one connection: the status and the connection's local port. */
function modelsWith(key: string): Promise<{ status: number; port: number | undefined }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${testGateway.url}/v1/models`, { agent, headers: { authorization: `Bearer ${key}` }, timeout: 10_000 }, (response) => {
      const port = response.socket.localPort;
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, port }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
    request.end();
  });
}

describe('the key kept per connection', () => {
  it('opens nothing for another key on the same connection', async () => {
    const loaded = testGateway.buildConfig(options);
    const ownKey = createClientKey(loaded, 'own').key;
    expect(applyReload(testGateway.gateway, loaded)).toBe(true);
    const first = await modelsWith(ownKey);
    const second = await modelsWith(ownKey);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.port).toBe(first.port);
    // Same length and prefix as the accepted key, one character changed: refused.
    const lastCharacter = ownKey.at(-1) === 'A' ? 'B' : 'A';
    const wrong = await modelsWith(`${ownKey.slice(0, -1)}${lastCharacter}`);
    expect(wrong.status).toBe(401);
    expect((await modelsWith(generateTestClientKey())).status).toBe(401);
  });

  it('refuses a revoked key on the connection that used it, once the reload applied', async () => {
    const loaded = testGateway.buildConfig(options);
    const ownKey = createClientKey(loaded, 'own').key;
    expect(applyReload(testGateway.gateway, loaded)).toBe(true);
    const before = await modelsWith(ownKey);
    expect(before.status).toBe(200);
    expect(revokeClientKey(loaded, 'own')).toBe('revoked');
    expect(applyReload(testGateway.gateway, testGateway.buildConfig(options))).toBe(true);
    const after = await modelsWith(ownKey);
    expect(after.port).toBe(before.port);
    expect(after.status).toBe(401);
  });
});

describe('sameKey', () => {
  it('is equality, lengths included', () => {
    expect(sameKey('abcdef', 'abcdef')).toBe(true);
    expect(sameKey('abcdeg', 'abcdef')).toBe(false);
    expect(sameKey('abcde', 'abcdef')).toBe(false);
    expect(sameKey('abcdef0', 'abcdef')).toBe(false);
    expect(sameKey('', 'abcdef')).toBe(false);
    expect(sameKey('abcdef\u0000', 'abcdef')).toBe(false);
  });
});
