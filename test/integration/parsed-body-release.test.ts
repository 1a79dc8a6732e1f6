import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startHeldUpstream, type HeldUpstream } from '../helpers/held-upstream.js';

/**
 * The parsed client body is let go once the bridge has built the upstream body
 * (releaseParsedBody in src/server/chat-pipeline.ts): while the upstream takes its time, the tree
 * of a ~100 KB Claude Code body must not stay reachable, or every young-generation GC copies the
 * trees of all requests in flight. Shown with the real gateway in this process: each parsed body
 * is watched through a WeakRef (JSON.parse wrapped for the test), the upstream holds the request,
 * a full GC runs, and the body is gone on a pass-through, on any stream and on a translated JSON
 * answer — and still there for a Responses client's JSON answer, which echoes the request: the
 * control that shows the test can see a kept body.
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const originalParse = JSON.parse;
const watched = new Map<string, WeakRef<object>>();

let upstream: HeldUpstream;
let testGateway: TestGateway;

beforeAll(async () => {
  // Bodies carrying a `metadata.watch` mark are remembered weakly, by mark; everything else parses as usual.
  JSON.parse = function watchingParse(text: string, reviver?: Parameters<typeof JSON.parse>[1]) {
    const value: unknown = originalParse(text, reviver);
    const mark = (value as { metadata?: { watch?: unknown } } | null)?.metadata?.watch;
    if (typeof mark === 'string' && typeof value === 'object' && value !== null) watched.set(mark, new WeakRef(value));
    return value;
  } as typeof JSON.parse;
  upstream = await startHeldUpstream();
  testGateway = await startTestGateway({
    providers: { oai: { type: 'openai', base_url: upstream.baseUrl, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] } },
  });
});
afterEach(() => upstream.hold());
afterAll(async () => {
  JSON.parse = originalParse;
  await testGateway.stop();
  await upstream.close();
});

/** A body of many small parts, like an agent's, marked so the wrapped parser watches its tree. */
function markedMessages(mark: string) {
  return Array.from({ length: 50 }, (_, turn) => ({ role: turn % 2 === 0 ? 'user' : 'assistant', content: `turn ${turn} of ${mark}` }));
}

async function heldRequest(path: string, body: Record<string, unknown>): Promise<{ mark: string; answer: Promise<Response> }> {
  const mark = body['metadata'] as { watch: string };
  const sent = upstream.received();
  const answer = fetch(`${testGateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${testGateway.clientKey}`, 'x-api-key': testGateway.clientKey },
    body: JSON.stringify(body),
  });
  await upstream.waitForReceived(sent + 1);
  return { mark: mark.watch, answer };
}

function reachableAfterGc(mark: string): boolean {
  const reference = watched.get(mark);
  if (reference === undefined) throw new Error(`the gateway never parsed the body marked ${mark}`);
  collectGarbage();
  return reference.deref() !== undefined;
}

describe('the parsed client body while the upstream answers', () => {
  it.each([
    ['a same-format pass-through (OpenAI client, OpenAI upstream)', '/v1/chat/completions', (answer: unknown) => (answer as { choices: { message: { content: string } }[] }).choices[0]?.message.content],
    [
      'a translated JSON answer that does not read the request (Anthropic client, OpenAI upstream: Claude Code non-streamed)',
      '/v1/messages',
      (answer: unknown) => (answer as { content: { text: string }[] }).content[0]?.text,
    ],
  ])('is let go on %s, and the answer still arrives', async (_name, path, answerText) => {
    const mark = randomUUID();
    const { answer } = await heldRequest(path, { model: 'gpt-test', max_tokens: 16, metadata: { watch: mark }, messages: markedMessages(mark) });
    expect(reachableAfterGc(mark)).toBe(false);
    upstream.release();
    const response = await answer;
    expect(response.status).toBe(200);
    expect(answerText(await response.json())).toBe('ok');
  });

  it.each([
    ['a pass-through stream (OpenAI client, OpenAI upstream)', '/v1/chat/completions'],
    ['a translated stream (Anthropic client, OpenAI upstream), once its stream translator is made', '/v1/messages'],
  ])('is let go on %s, before the upstream answers', async (_name, path) => {
    const mark = randomUUID();
    const { answer } = await heldRequest(path, { model: 'gpt-test', max_tokens: 16, stream: true, metadata: { watch: mark }, messages: markedMessages(mark) });
    expect(reachableAfterGc(mark)).toBe(false);
    upstream.release(); // a JSON answer to a stream request: what the client gets of it is other tests' subject
    await (await answer).text();
  });

  it('is kept for a translated JSON answer that reads the request (Responses client, OpenAI upstream: the answer echoes it)', async () => {
    const mark = randomUUID();
    const { answer } = await heldRequest('/v1/responses', { model: 'gpt-test', max_output_tokens: 16, metadata: { watch: mark }, input: markedMessages(mark) });
    expect(reachableAfterGc(mark)).toBe(true);
    upstream.release();
    const response = await answer;
    expect(response.status).toBe(200);
    const body = (await response.json()) as { metadata?: Record<string, string>; output: { content: { text: string }[] }[] };
    expect(body.output[0]?.content[0]?.text).toBe('ok');
    expect(body.metadata?.['watch']).toBe(mark);
  });
});
