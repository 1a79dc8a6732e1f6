import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { post } from '../helpers/http.js';

/**
 * The egress guard through the whole gateway: a provider whose host name (`localhost`) resolves to
 * loopback is refused at connect with 502 GW_EGRESS_REFUSED in the client's error shape, nothing
 * reaches the upstream, and the same upstream is served when the provider opts in.
 */
let stub: StubUpstream;
let gateway: TestGateway;

beforeAll(async () => {
  stub = await startOpenAIStub();
  const byName = stub.baseUrl.replace('127.0.0.1', 'localhost');
  gateway = await startTestGateway({
    providers: {
      guarded: { type: 'openai', base_url: byName, api_keys: ['test-upstream-key-egress-1'], models: [{ name: 'gpt-guarded' }], allow_private_network: false },
      opted: { type: 'openai', base_url: byName, api_keys: ['test-upstream-key-egress-2'], models: [{ name: 'gpt-opted' }], allow_private_network: true },
    },
  });
});
afterAll(async () => {
  await gateway?.stop();
  await stub?.close();
});

const chat = (model: string) => post(`${gateway.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${gateway.clientKey}` });

describe('egress guard', () => {
  it('refuses a provider whose name resolves to loopback, sending nothing upstream', async () => {
    const before = stub.requests.length;
    const answer = await chat('gpt-guarded');
    expect(answer.status).toBe(502);
    expect(answer.json).toMatchObject({ error: { code: 'GW_EGRESS_REFUSED' } });
    expect(answer.text).not.toContain('127.0.0.1'); // the address is for the log, not the client
    expect(stub.requests.length).toBe(before);
    expect(gateway.logs.join('\n')).toContain('GW_EGRESS_REFUSED');
  });

  it('serves the same upstream when the provider sets allow_private_network', async () => {
    const answer = await chat('gpt-opted');
    expect(answer.status).toBe(200);
    expect(stub.requests.at(-1)?.apiKey).toBe('test-upstream-key-egress-2');
  });
});
