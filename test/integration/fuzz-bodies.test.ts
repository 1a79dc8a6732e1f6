import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, post } from '../helpers/http.js';
import { hostileBody, seededRandom } from '../helpers/hostile-bodies.js';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';

/**
 * Fuzzed bodies over real HTTP, both surfaces: whatever a client sends, the answer is never a 500
 * and the gateway keeps running. Bounded (runs per surface below), seeded: the seed is printed,
 * and `FUZZ_SEED=<seed> npx vitest run test/integration/fuzz-bodies.test.ts` replays a failure.
 */
const runsPerSurface = 200;
const concurrency = 4;
const seed = process.env['FUZZ_SEED'] === undefined ? 20261203 : Number(process.env['FUZZ_SEED']);

let setup: StandardSetup;
beforeAll(async () => {
  setup = await startStandardSetup();
  // Printed so a failure can be replayed; fixed by default so CI runs the same bodies every time.
  console.info(`fuzz-bodies: seed ${seed} (FUZZ_SEED replays), ${runsPerSurface} bodies per surface`);
});
afterAll(() => setup?.stop());

describe.each([
  ['openai', '/v1/chat/completions'],
  ['anthropic', '/v1/messages'],
] as const)('fuzzed %s bodies', (surface, path) => {
  it(`${runsPerSurface} hostile bodies: never a 500, always a JSON or SSE answer, the gateway still up`, async () => {
    const random = seededRandom(seed + (surface === 'openai' ? 0 : 1));
    const bodies = Array.from({ length: runsPerSurface }, () => hostileBody(random, surface));
    const headers = { 'x-api-key': setup.testGateway.clientKey, 'anthropic-version': '2023-06-01' };
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < bodies.length) {
        const index = next++;
        const response = await post(`${setup.testGateway.url}${path}`, bodies[index]!, headers);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const type = response.headers.get('content-type') ?? '';
        if (response.status >= 500 && response.status !== 502 && response.status !== 503 && response.status !== 529) failures.push(`#${index} → ${response.status} ${response.text.slice(0, 200)}`);
        else if (response.text.includes('GW_INTERNAL')) failures.push(`#${index} → GW_INTERNAL`);
        else if (!type.startsWith('application/json') && !type.startsWith('text/event-stream')) failures.push(`#${index} → ${response.status} with content-type '${type}'`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    console.info(`fuzz-bodies ${surface}: statuses ${[...statuses].sort(([left], [right]) => left - right).map(([status, count]) => `${status}×${count}`).join(', ')}`);
    // The bodies reach past the parser: some are answered, most are refused by some check.
    expect(statuses.get(200) ?? 0, 'some mutated bodies are still served').toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect(failures, `seed ${seed}: bodies that broke the gateway`).toEqual([]);
    expect((await get(`${setup.testGateway.url}/healthz`)).status).toBe(200);
    const errorLines = setup.testGateway.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errorLines, 'no error logged: nothing unexpected happened').toEqual([]);
  }, 120_000);
});
