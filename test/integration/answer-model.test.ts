import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSseText, post } from '../helpers/http.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * One rule for the `model` in answers (issue 8, docs/configuration.md "Model names in answers"):
 * every answer reports the model name the upstream reported, on all four bridges, streamed and
 * not, whatever name the client used (an alias, the provider's name, `provider/model`). The stubs
 * report a dated snapshot, as real APIs do for an alias, so the three names differ here:
 * the client's alias, the provider's name sent upstream, and the name the upstream reports.
 */
type Side = 'openai' | 'anthropic';
const sides: Side[] = ['openai', 'anthropic'];
const snapshot = (requested: string): string => `${requested}-2025-09-29`;

/** Per upstream format: the provider's model name and the alias clients use for it. */
const names: Record<Side, { upstream: string; alias: string; provider: string }> = {
  openai: { upstream: 'gpt-named-upstream', alias: 'gpt-alias', provider: 'model-oai' },
  anthropic: { upstream: 'claude-named-upstream', alias: 'claude-alias', provider: 'model-ant' },
};

let setup: StandardSetup;
beforeAll(async () => {
  setup = await startStandardSetup({
    extraProviders: ({ openaiStub, anthropicStub }) => ({
      'model-oai': { type: 'openai', base_url: openaiStub.baseUrl, api_keys: ['test-upstream-key-model-oai'], models: [{ name: names.openai.upstream, alias: names.openai.alias }] },
      'model-ant': {
        type: 'anthropic',
        base_url: anthropicStub.baseUrl,
        api_keys: ['test-upstream-key-model-ant'],
        models: [{ name: names.anthropic.upstream, alias: names.anthropic.alias }],
      },
    }),
  });
  setup.openaiStub.reportModelAs(snapshot);
  setup.anthropicStub.reportModelAs(snapshot);
});
afterAll(() => setup.stop());

function request(surface: Side, model: string, stream: boolean): Promise<{ status: number; text: string; json: unknown }> {
  const { url, clientKey } = setup.testGateway;
  const messages = [{ role: 'user', content: 'hi' }];
  return surface === 'openai'
    ? post(`${url}/v1/chat/completions`, { model, messages, stream }, { authorization: `Bearer ${clientKey}` })
    : post(`${url}/v1/messages`, { model, max_tokens: 64, messages, stream }, { 'x-api-key': clientKey, 'anthropic-version': '2023-06-01' });
}

/** Every `model` the client saw: the body's, or each chunk's (OpenAI) / message_start's (Anthropic). */
function reportedModels(surface: Side, stream: boolean, answer: { text: string; json: unknown }): string[] {
  if (!stream) return [(answer.json as { model: string }).model];
  const payloads = parseSseText(answer.text)
    .filter((event) => event.data !== '[DONE]')
    .map((event) => JSON.parse(event.data) as { model?: string; message?: { model?: string } });
  return surface === 'openai' ? payloads.map((payload) => payload.model ?? '(none)') : payloads.flatMap((payload) => (payload.message === undefined ? [] : [payload.message.model ?? '(none)']));
}

describe.each(sides)('%s client', (surface) => {
  describe.each(sides)('→ %s upstream', (upstream) => {
    const { upstream: upstreamName, alias, provider } = names[upstream];
    const stub = (): typeof setup.openaiStub => (upstream === 'openai' ? setup.openaiStub : setup.anthropicStub);

    it.each([false, true])('reports the upstream-reported model for an alias, a provider name and provider/model (stream: %s)', async (stream) => {
      for (const asked of [alias, upstreamName, `${provider}/${alias}`]) {
        const answer = await request(surface, asked, stream);
        expect(answer.status, answer.text).toBe(200);
        expect((stub().requests.at(-1)?.body as { model?: string }).model, 'the upstream gets the provider name').toBe(upstreamName);
        const models = reportedModels(surface, stream, answer);
        expect(models.length, answer.text).toBeGreaterThan(0);
        expect(new Set(models), `asked for ${asked}`).toEqual(new Set([snapshot(upstreamName)]));
      }
    });
  });
});
