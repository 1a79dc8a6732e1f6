import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange, ExchangeObserver } from '../../src/server/exchange.js';
import { post } from '../helpers/http.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * The per-request record (issue #10): a recording subscriber sees exactly one record per request,
 * with the right fields, on every bridge, streamed and not, and on the failure paths. Usage in the
 * record equals what the stub upstreams' recorded answers report.
 */
interface Recorded {
  record: Exchange;
  points: string[];
}

function createRecorder(): { observer: ExchangeObserver; recorded: Recorded[] } {
  const recorded: Recorded[] = [];
  const pointsById = new Map<string, string[]>();
  const note = (exchange: Exchange, point: string): void => {
    const points = pointsById.get(exchange.requestId) ?? [];
    points.push(point);
    pointsById.set(exchange.requestId, points);
  };
  return {
    recorded,
    observer: {
      name: 'recorder',
      routed: (exchange) => note(exchange, 'routed'),
      attempt: (exchange) => note(exchange, 'attempt'),
      firstByte: (exchange) => note(exchange, 'firstByte'),
      usage: (exchange) => note(exchange, 'usage'),
      end: (exchange) => {
        note(exchange, 'end');
        recorded.push({ record: structuredClone(exchange), points: pointsById.get(exchange.requestId) ?? [] });
      },
    },
  };
}

/** A subscriber that throws at every point: it must break nothing. */
const throwingObserver: ExchangeObserver = {
  name: 'thrower',
  routed: () => {
    throw new Error('observer bug');
  },
  attempt: () => {
    throw new Error('observer bug');
  },
  firstByte: () => {
    throw new Error('observer bug');
  },
  usage: () => {
    throw new Error('observer bug');
  },
  end: () => {
    throw new Error('observer bug');
  },
};

const openaiUsage = { inputTokens: 12, outputTokens: 7, cachedTokens: 0 };
const anthropicUsage = { inputTokens: 14, outputTokens: 8, cachedTokens: 0 };

let setup: StandardSetup;
let recorder: ReturnType<typeof createRecorder>;

beforeAll(async () => {
  recorder = createRecorder();
  setup = await startStandardSetup({
    openaiKeys: [
      { key: 'test-upstream-key-0001', priority: 0 },
      { key: 'test-upstream-key-0002', priority: 1 },
    ],
    extra: { server: { body_limit_bytes: 4096 } },
    exchangeObservers: [throwingObserver, recorder.observer],
  });
});
afterAll(async () => setup?.stop());

/** Sends one request and returns the client's answer and the one record it produced. */
async function exchangeOf(send: () => Promise<Awaited<ReturnType<typeof post>>>): Promise<{ text: string; status: number; record: Exchange; points: string[] }> {
  const before = recorder.recorded.length;
  const answer = await send();
  for (let waited = 0; recorder.recorded.length === before && waited < 3_000; waited += 10) await delay(10);
  await delay(30); // a second record for the same request would show up here
  expect(recorder.recorded.length - before).toBe(1);
  const { record, points } = recorder.recorded[before]!;
  return { text: answer.text, status: answer.status, record, points };
}

const chat = (body: Record<string, unknown>, key = setup.testGateway.clientKey) =>
  post(`${setup.testGateway.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], ...body }, { authorization: `Bearer ${key}` });
const messages = (body: Record<string, unknown>) =>
  post(`${setup.testGateway.url}/v1/messages`, { max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], ...body }, {
    'x-api-key': setup.testGateway.clientKey,
    'anthropic-version': '2023-06-01',
  });

describe('one record per request on every bridge', () => {
  const cases = [
    { name: 'OpenAI pass-through', send: (stream: boolean) => chat({ model: 'gpt-test', stream, ...(stream ? { stream_options: { include_usage: true } } : {}) }), surface: 'openai-chat', provider: 'oai', upstreamModel: 'gpt-test', bridge: 'openai-chat-pass-through', usage: openaiUsage },
    { name: 'Anthropic pass-through', send: (stream: boolean) => messages({ model: 'sonnet-test', stream }), surface: 'anthropic-messages', provider: 'ant', upstreamModel: 'claude-test', bridge: 'anthropic-messages-pass-through', usage: anthropicUsage },
    { name: 'OpenAI client, Anthropic upstream', send: (stream: boolean) => chat({ model: 'claude-test', stream }), surface: 'openai-chat', provider: 'ant', upstreamModel: 'claude-test', bridge: 'openai-chat-to-anthropic-messages', usage: anthropicUsage },
    { name: 'Anthropic client, OpenAI upstream', send: (stream: boolean) => messages({ model: 'gpt-test', stream }), surface: 'anthropic-messages', provider: 'oai', upstreamModel: 'gpt-test', bridge: 'anthropic-messages-to-openai-chat', usage: openaiUsage },
  ];
  for (const testCase of cases) {
    for (const stream of [false, true]) {
      it(`${testCase.name}, ${stream ? 'streamed' : 'not streamed'}`, async () => {
        const { status, record, points } = await exchangeOf(() => testCase.send(stream));
        expect(status).toBe(200);
        expect(record).toMatchObject({
          principal: { id: setup.testGateway.clientKeyId, source: 'client-key', policy: {} },
          surface: testCase.surface,
          route: { provider: testCase.provider, upstreamModel: testCase.upstreamModel, bridge: testCase.bridge },
          attempts: [{ status: 200, failure: undefined }],
          usage: testCase.usage,
          outcome: { status: 200, errorCode: undefined, clientAborted: false },
        });
        expect(record.requestId).toMatch(/\S/);
        expect(record.clientIp).toMatch(/127\.0\.0\.1/);
        expect(record.firstByteMs).toBeGreaterThanOrEqual(0);
        expect(record.endedAt).toBeGreaterThanOrEqual(record.startedAt);
        expect(points).toEqual(['routed', 'attempt', ...(stream ? ['firstByte', 'usage'] : ['usage', 'firstByte']), 'end']);
      });
    }
  }

  it('records the usage of a translated stream whose client did not ask for it, and the client gets none', async () => {
    const { text, record } = await exchangeOf(() => chat({ model: 'claude-test', stream: true }));
    expect(record.usage).toEqual(anthropicUsage);
    expect(text).not.toContain('"usage"');
  });

  it('records usage on an OpenAI pass-through stream that did not ask for it (asked upstream), and the client gets no usage chunk', async () => {
    const { text, record } = await exchangeOf(() => chat({ model: 'gpt-test', stream: true }));
    expect(record.usage).toEqual({ inputTokens: 12, outputTokens: 7, cachedTokens: 0 });
    expect(text).not.toContain('"prompt_tokens"');
    expect(text).not.toContain('"choices":[]');
  });
});

describe('records on the failure paths', () => {
  it('lists both attempts of a failover', async () => {
    setup.openaiStub.failNext({ status: 429, headers: { 'retry-after': '1' } }, { whenKey: 'test-upstream-key-0001' });
    const { status, record } = await exchangeOf(() => chat({ model: 'gpt-test' }));
    expect(status).toBe(200);
    expect(record.attempts).toMatchObject([
      { credentialId: 'oai-key-1', status: 429, failure: 'GW_UPSTREAM_RATE_LIMITED' },
      { credentialId: 'oai-key-2', status: 200, failure: undefined },
    ]);
    await delay(1_100); // the first key's cooldown ends
  });

  it('marks a client abort', async () => {
    setup.openaiStub.hangNext();
    const before = recorder.recorded.length;
    const controller = new AbortController();
    const pending = fetch(`${setup.testGateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${setup.testGateway.clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
      signal: controller.signal,
    }).catch(() => undefined);
    await delay(400); // the request reached the stub, which never answers
    controller.abort();
    await pending;
    for (let waited = 0; recorder.recorded.length === before && waited < 3_000; waited += 10) await delay(10);
    await delay(30);
    expect(recorder.recorded.length - before).toBe(1);
    expect(recorder.recorded[before]?.record).toMatchObject({ route: { provider: 'oai' }, attempts: [{ failure: 'aborted' }], outcome: { clientAborted: true } });
  });

  it('records a mid-stream upstream error as a 200 that ended in an error code, relayed or translated', async () => {
    for (const model of ['claude-test', 'gpt-test']) {
      (model === 'claude-test' ? setup.anthropicStub : setup.openaiStub).errorEventMidStreamNext();
      const { status, record } = await exchangeOf(() => messages({ model, stream: true }));
      expect(status).toBe(200);
      expect(record.outcome).toMatchObject({ status: 200, clientAborted: false, errorCode: expect.stringMatching(/^GW_UPSTREAM_/) });
    }
  });

  it('records a 401 without principal or route', async () => {
    const { status, record } = await exchangeOf(() => chat({ model: 'gpt-test' }, 'test-client-wrong-key-0000000000000000'));
    expect(status).toBe(401);
    expect(record).toMatchObject({ principal: undefined, route: undefined, attempts: [], outcome: { status: 401, errorCode: 'GW_UNAUTHORIZED', clientAborted: false } });
  });

  it('records a 404 model with the model asked for and no route', async () => {
    const { status, record } = await exchangeOf(() => chat({ model: 'no-such-model' }));
    expect(status).toBe(404);
    expect(record).toMatchObject({ principal: { id: setup.testGateway.clientKeyId, source: 'client-key' }, requestedModel: 'no-such-model', route: undefined, outcome: { status: 404, errorCode: 'GW_MODEL_NOT_FOUND' } });
  });

  it('records a 413', async () => {
    const { status, record } = await exchangeOf(() => chat({ model: 'gpt-test', padding: 'x'.repeat(8192) }));
    expect(status).toBe(413);
    expect(record).toMatchObject({ route: undefined, outcome: { status: 413, errorCode: 'GW_BODY_TOO_LARGE' } });
  });

  it('logs a throwing subscriber and serves every request anyway', () => {
    expect(setup.testGateway.logs.some((line) => line.includes('exchange observer failed') && line.includes('thrower'))).toBe(true);
  });
});
