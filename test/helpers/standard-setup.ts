import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startAnthropicStub, startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { startTestGateway, type StartTestGatewayOptions, type TestGateway, type TestProviderConfig } from './gateway.js';

/**
 * The usual integration setup: one OpenAI stub and one Anthropic stub, and a gateway with provider
 * `oai` (model `gpt-test`) and provider `ant` (model `claude-test`, alias `sonnet-test`), two upstream
 * keys each. Upstream keys are obviously fake and distinct per provider, so a test can tell which
 * credential a request used.
 */
export const openaiUpstreamKeys = ['test-upstream-key-0001', 'test-upstream-key-0002'] as const;
export const anthropicUpstreamKeys = ['test-upstream-key-0101', 'test-upstream-key-0102'] as const;

export interface StandardSetup {
  openaiStub: StubUpstream;
  anthropicStub: StubUpstream;
  testGateway: TestGateway;
  openaiClient: OpenAI;
  anthropicClient: Anthropic;
  stop(): Promise<void>;
}

export interface StandardSetupOptions {
  extra?: Record<string, unknown>;
  /** More providers beside `oai` and `ant`; built once the stubs' URLs are known. */
  extraProviders?: (stubs: { openaiStub: StubUpstream; anthropicStub: StubUpstream }) => Record<string, TestProviderConfig>;
  openaiKeys?: TestProviderConfig['api_keys'];
  anthropicKeys?: TestProviderConfig['api_keys'];
  exchangeObservers?: StartTestGatewayOptions['exchangeObservers'];
}

/** An OpenAI SDK client aimed at the gateway, no SDK retries (tests see every status as sent). */
export function openaiClientFor(testGateway: TestGateway, apiKey = testGateway.clientKey): OpenAI {
  return new OpenAI({ baseURL: `${testGateway.url}/v1`, apiKey, maxRetries: 0, timeout: 10_000 });
}

/** An Anthropic SDK client aimed at the gateway; 1.x sends `apiKey` as `Authorization: Bearer`. */
export function anthropicClientFor(testGateway: TestGateway, apiKey = testGateway.clientKey): Anthropic {
  return new Anthropic({ baseURL: testGateway.url, apiKey, maxRetries: 0, timeout: 10_000 });
}

export async function startStandardSetup(options: StandardSetupOptions = {}): Promise<StandardSetup> {
  const openaiStub = await startOpenAIStub();
  const anthropicStub = await startAnthropicStub();
  try {
    const testGateway = await startTestGateway({
      providers: {
        oai: { type: 'openai', base_url: openaiStub.baseUrl, api_keys: options.openaiKeys ?? [...openaiUpstreamKeys], models: [{ name: 'gpt-test' }] },
        ant: {
          type: 'anthropic',
          base_url: anthropicStub.baseUrl,
          api_keys: options.anthropicKeys ?? [...anthropicUpstreamKeys],
          models: [{ name: 'claude-test', alias: 'sonnet-test' }],
        },
        ...options.extraProviders?.({ openaiStub, anthropicStub }),
      },
      extra: options.extra ?? {},
      ...(options.exchangeObservers === undefined ? {} : { exchangeObservers: options.exchangeObservers }),
    });
    return {
      openaiStub,
      anthropicStub,
      testGateway,
      openaiClient: openaiClientFor(testGateway),
      anthropicClient: anthropicClientFor(testGateway),
      stop: async () => {
        try {
          await testGateway.stop();
        } finally {
          await Promise.all([openaiStub.close(), anthropicStub.close()]);
        }
      },
    };
  } catch (error) {
    await Promise.all([openaiStub.close(), anthropicStub.close()]);
    throw error;
  }
}
