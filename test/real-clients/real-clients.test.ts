import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicStub, startGeminiStub, startOpenAIStub, type StubUpstream } from '../fixtures/stub-upstreams/index.js';
import { realClients, type RealClient, type UpstreamKind } from './clients.js';
import { generateKey, makeClientHome, runClient, startBuiltGateway, startEgressRecorder, type GatewayProvider } from './harness.js';

/**
 * The real coding clients, run as a user runs them, non-interactively with one prompt, through the
 * BUILT gateway (dist/) to the stub upstreams: to an upstream of the client's own format (pass
 * through) and to the other formats (translated), as each entry's `upstreams` lists. Each run: exit 0, the stub's answer on stdout,
 * the upstream key (never the client key) at the stub, no key in the client's output or the
 * gateway's log, no request the gateway refused, and no attempt to reach anything else (an egress
 * recorder stands in for the internet).
 *
 * The clients are installed by .ci/steps/real-clients.sh (pinned, outside node_modules). Missing
 * locally → a loud skip; with CI=true → a failure, so CI cannot pass without running them.
 */

/** What the recorded stub streams say (test/fixtures/recorded/<kind>/*-text.chunks.txt). */
const stubAnswer: Record<UpstreamKind, string> = {
  anthropic: 'Hello from the Anthropic stub.',
  openai: 'Hello from the OpenAI stub.',
  gemini: 'Hello from the Gemini stub.',
};
/** The upstream paths the stubs serve; a request elsewhere means the gateway or stub lacks a route. */
const servedPaths: Record<UpstreamKind, string[]> = {
  anthropic: ['/v1/messages', '/v1/messages/count_tokens'],
  openai: ['/v1/chat/completions'],
  gemini: ['/v1beta/models/gemini-test:generateContent', '/v1beta/models/gemini-test:streamGenerateContent'],
};
/** The model name the stub of each kind is configured with (what goes upstream). */
const stubModel: Record<UpstreamKind, string> = { anthropic: 'claude-test', openai: 'gpt-test', gemini: 'gemini-test' };
const startStub: Record<UpstreamKind, () => Promise<StubUpstream>> = { anthropic: startAnthropicStub, openai: startOpenAIStub, gemini: startGeminiStub };
/** One client run: a cold start of a 400 MB binary on a shared 2-core machine, plus one answer. */
const clientTimeoutMs = 90_000;

const binaries = new Map<RealClient, string>();

beforeAll(() => {
  const missing: string[] = [];
  for (const client of realClients) {
    const binary = client.locate();
    if (binary === undefined) {
      missing.push(`${client.name} ${client.version}`);
      continue;
    }
    const reported = client.reportedVersion(binary);
    if (reported !== client.version) throw new Error(`${binary} reports version ${String(reported)}, the suite pins ${client.version}`);
    binaries.set(client, binary);
  }
  if (missing.length === 0) return;
  const message = `real clients not installed: ${missing.join(', ')}`;
  const banner = '!'.repeat(100);
  console.warn(`\n${banner}\n!! REAL-CLIENT TESTS SKIPPED: ${message}\n!! Install them with: bash .ci/steps/real-clients.sh\n${banner}\n`);
  if (process.env['CI'] === 'true') throw new Error(`CI=true but ${message} (.ci/steps/real-clients.sh installs them)`);
}, 60_000);

/** Every secret of a run, for the "appears nowhere" checks. */
interface RunKeys {
  clientKey: string;
  upstreamKey: string;
}

function expectNoKey(text: string, keys: RunKeys, where: string): void {
  expect(text.includes(keys.clientKey), `client key in ${where}`).toBe(false);
  expect(text.includes(keys.upstreamKey), `upstream key in ${where}`).toBe(false);
}

function gatewayProvider(kind: UpstreamKind, stub: StubUpstream, upstreamKey: string, client: RealClient): GatewayProvider {
  // Same format: the client's model name is served as is (Gemini: as an alias, which changes only
  // the URL, never the body); translated: it is an alias of the stub's.
  const models = kind === client.nativeUpstream && kind !== 'gemini' ? [{ name: client.model }] : [{ name: stubModel[kind], alias: client.model }];
  return { type: kind, baseUrl: stub.baseUrl, upstreamKey, models };
}

describe.each(realClients.map((client) => [client.name, client] as const))('%s (real CLI) through the built gateway', (_name, client) => {
  const started: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const stop of started.reverse()) await stop();
  }, 30_000);

  it.for(client.upstreams)(
    'answers a streamed prompt from an %s upstream: exit 0, the stub answer, the upstream key at the stub, no key anywhere',
    { timeout: clientTimeoutMs + 30_000 },
    async (kind, { skip }) => {
      const binary = binaries.get(client);
      if (binary === undefined) return skip(`${client.name} ${client.version} is not installed`);
      const keys: RunKeys = { clientKey: generateKey('client'), upstreamKey: generateKey('upstream') };
      const stub = await startStub[kind]();
      started.push(() => stub.close());
      const gateway = await startBuiltGateway(gatewayProvider(kind, stub, keys.upstreamKey, client), keys.clientKey);
      started.push(() => gateway.stop());
      const egress = await startEgressRecorder();
      started.push(() => egress.close());
      const { home, remove } = makeClientHome();
      started.push(remove);

      const invocation = client.invocation({
        gatewayUrl: gateway.url,
        clientKey: keys.clientKey,
        model: client.model,
        prompt: 'Reply with one short greeting.',
        home,
        egressProxyUrl: egress.url,
      });
      const run = await runClient(binary, invocation, home, clientTimeoutMs);
      const diagnosis = `exit ${String(run.exitCode)} ${String(run.signal)}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}\ngateway:\n${gateway.output()}`;

      expect(run.timedOut, diagnosis).toBe(false);
      expect(run.exitCode, diagnosis).toBe(0);
      expect(run.stdout).toContain(stubAnswer[kind]);

      expect(stub.requests.length).toBeGreaterThan(0);
      for (const request of stub.requests) {
        expect(servedPaths[kind], `${request.method} ${request.path}`).toContain(request.path.split('?')[0]);
        expect(request.apiKey).toBe(keys.upstreamKey);
        expect(JSON.stringify(request.headers)).not.toContain(keys.clientKey);
        expect(request.rawBody).not.toContain(keys.clientKey);
      }
      // Gemini streams by method (`:streamGenerateContent`), the others by a body field.
      const streamed = (request: (typeof stub.requests)[number]): boolean =>
        kind === 'gemini' ? request.path.includes(':streamGenerateContent') : (request.body as { stream?: unknown } | undefined)?.stream === true;
      expect(stub.requests.some(streamed), 'a streamed request').toBe(true);

      // Access lines are written in batches (flushed every 250 ms): wait for them rather than race the flush.
      const readAccessLines = () => gateway.output().split('\n').filter((line) => line.includes('"msg":"request"'));
      for (const deadline = Date.now() + 5_000; readAccessLines().length === 0 && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const accessLines = readAccessLines();
      expect(accessLines.length).toBeGreaterThan(0);
      for (const line of accessLines) expect((JSON.parse(line) as { status: number }).status, line).toBeLessThan(400);

      expectNoKey(run.stdout, keys, 'client stdout');
      expectNoKey(run.stderr, keys, 'client stderr');
      expectNoKey(gateway.output(), keys, 'gateway log');
      expect(egress.attempts, 'connections the client tried beyond the gateway').toEqual([]);
    },
  );
});
