import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSseText, post } from '../helpers/http.js';
import { anthropicUpstreamKeys, openaiUpstreamKeys, startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * A request shaped exactly like Claude Code 2.1.332's `claude -p` (test/fixtures/clients/: its
 * fields, headers and wire formatting, with shortened texts) through the gateway with the default
 * limits. Before issue 8 it was refused twice over: `messages.1.role` (a `system` message inside
 * `messages`) and `max_tokens 128000` above the old 32,768 default cap.
 *
 * Same format, it must reach an Anthropic upstream byte for byte (body) with its `anthropic-beta`
 * and `anthropic-version` unchanged; translated, an OpenAI upstream gets the system message at the
 * same position and a `user` it accepts. The real CLI runs in test/real-clients/.
 */
interface ClientFixture {
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown> & { messages: unknown[]; metadata: { user_id: string } };
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/clients/claude-code-request.json', import.meta.url), 'utf8')) as ClientFixture;
/** Claude Code sends compact JSON; these are the bytes the client puts on the wire. */
const bodyBytes = JSON.stringify(fixture.body);

let setup: StandardSetup;

beforeAll(async () => {
  setup = await startStandardSetup({
    extraProviders: ({ openaiStub, anthropicStub }) => ({
      'oai-capped': {
        type: 'openai',
        base_url: openaiStub.baseUrl,
        api_keys: ['test-upstream-key-capped'],
        models: [{ name: 'gpt-small', max_tokens: 1_000 }, { name: 'gpt-large', alias: 'large', max_tokens: 200_000 }],
      },
      'ant-capped': { type: 'anthropic', base_url: anthropicStub.baseUrl, api_keys: ['test-upstream-key-capped-2'], models: [{ name: 'claude-small', max_tokens: 1_000 }] },
    }),
  });
});
afterAll(() => setup.stop());

function send(model: string, body: string = bodyBytes.replace('"model":"claude-test"', `"model":${JSON.stringify(model)}`)) {
  return post(`${setup.testGateway.url}${fixture.path}`, body, { ...fixture.headers, 'x-api-key': setup.testGateway.clientKey });
}

describe('a Claude Code request through the gateway (default limits)', () => {
  it('reaches an Anthropic upstream byte for byte, beta and version headers unchanged, with the upstream key', async () => {
    setup.anthropicStub.reset();
    const response = await send('claude-test', bodyBytes);
    expect(response.status, response.text).toBe(200);
    expect(parseSseText(response.text).at(-1)?.event).toBe('message_stop');

    const [seen] = setup.anthropicStub.requests;
    expect(setup.anthropicStub.requests).toHaveLength(1);
    expect(seen?.rawBody).toBe(bodyBytes);
    expect(seen?.headers['anthropic-beta']).toBe(fixture.headers['anthropic-beta']);
    expect(seen?.headers['anthropic-version']).toBe(fixture.headers['anthropic-version']);
    expect(anthropicUpstreamKeys).toContain(seen?.apiKey);
    expect(JSON.stringify(seen?.headers)).not.toContain(setup.testGateway.clientKey);
  });

  it('reaches an OpenAI upstream translated: the system message in place, a bounded user, no key of the client', async () => {
    setup.openaiStub.reset();
    const response = await send('gpt-test');
    expect(response.status, response.text).toBe(200);
    const events = parseSseText(response.text);
    expect(events.map((event) => event.event)).toContain('content_block_delta');
    expect(events.at(-1)?.event).toBe('message_stop');

    const seen = setup.openaiStub.requests[0];
    const upstreamBody = seen?.body as { messages: { role: string; content: unknown }[]; user: string; max_tokens: number };
    expect(upstreamBody.messages.map((message) => message.role)).toEqual(['system', 'user', 'system']);
    expect(upstreamBody.messages[2]?.content).toMatch(/^# Environment/);
    expect(upstreamBody.user).toMatch(/^sha256-[0-9a-f]{32}$/);
    expect(upstreamBody.max_tokens).toBe(128_000);
    for (const dropped of ['thinking', 'context_management', 'output_config', 'metadata']) expect(upstreamBody).not.toHaveProperty(dropped);
    expect(openaiUpstreamKeys).toContain(seen?.apiKey);
    expect(seen?.rawBody).not.toContain('defer_loading');
    expect(JSON.stringify(seen?.headers)).not.toContain(setup.testGateway.clientKey);
  });

  it('refuses an absurd metadata.user_id on the translated path with a 400 naming the field', async () => {
    const before = setup.openaiStub.requests.length;
    const body = JSON.stringify({ ...fixture.body, model: 'gpt-test', metadata: { user_id: 'x'.repeat(5_000) } });
    const response = await send('gpt-test', body);
    expect(response.status).toBe(400);
    expect(response.text).toContain('metadata.user_id');
    expect(setup.openaiStub.requests.length).toBe(before);
  });
});

describe('max_tokens caps: global and per model', () => {
  it('refuses above a model cap lower than the global one, naming the field and the model, without calling upstream', async () => {
    const before = setup.openaiStub.requests.length + setup.anthropicStub.requests.length;
    for (const model of ['gpt-small', 'claude-small']) {
      const response = await send(model);
      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      expect(response.text).toContain('max_tokens 128000');
      expect(response.text).toContain(`'${model}'`);
    }
    const openai = await post(
      `${setup.testGateway.url}/v1/chat/completions`,
      { model: 'gpt-small', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 1_001 },
      { authorization: `Bearer ${setup.testGateway.clientKey}` },
    );
    expect(openai.status).toBe(400);
    expect(openai.text).toContain('max_completion_tokens 1001');
    expect(setup.openaiStub.requests.length + setup.anthropicStub.requests.length).toBe(before);
  });

  it('admits above the global cap when a model allows more, through its name, alias and provider prefix', async () => {
    const global = 131_072;
    for (const model of ['gpt-large', 'large', 'oai-capped/large']) {
      const body = bodyBytes.replace('"model":"claude-test"', `"model":"${model}"`).replace('"max_tokens":128000', `"max_tokens":${global + 1}`);
      const response = await send(model, body);
      expect(response.status, `${model}: ${response.text}`).toBe(200);
    }
    const overGlobal = await send('gpt-test', bodyBytes.replace('"model":"claude-test"', '"model":"gpt-test"').replace('"max_tokens":128000', `"max_tokens":${global + 1}`));
    expect(overGlobal.status).toBe(400);
    expect(overGlobal.text).toContain(`above this gateway's limit of ${global}`);
  });
});
