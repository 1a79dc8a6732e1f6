import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { redisServerAvailable, startRedisServer, type RedisServerHandle } from '../../src/state/__fixtures__/redis-server.js';
import { runBinary, until, within } from '../helpers/binary-process.js';
import { generateTestClientKey, sha256Hex } from '../helpers/gateway.js';
import { startHeldUpstream, type HeldUpstream } from '../helpers/held-upstream.js';
import { post } from '../helpers/http.js';

/**
 * Issue 14: a key's daily budget holds exactly across two gateway processes (the built binary,
 * twice) on one real redis-server. 50 concurrent requests, alternating between the two, against a
 * budget of 10 requests' worth: 10 reach the upstream, 40 get 429 GW_KEY_BUDGET_EXCEEDED. The
 * upstream holds the admitted ones until every refusal is in, so no settle can make room meanwhile.
 */
const body = { model: 'gpt-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
const estimate = Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 4) + body.max_tokens;

describe.skipIf(!redisServerAvailable())('a key budget on Redis across two processes', () => {
  const children: ChildProcess[] = [];
  let directory: string;
  let redis: RedisServerHandle;
  let upstream: HeldUpstream;
  const clientKey = generateTestClientKey();

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'cliproxy-key-budget-'));
    redis = await startRedisServer();
    upstream = await startHeldUpstream();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await upstream.close();
    await redis.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  /** One gateway process with its own data directory; the config names the same Redis and key. */
  async function startProcess(name: string): Promise<string> {
    const cwd = join(directory, name);
    const config = {
      server: { host: '127.0.0.1', port: 0, security: { rate_limit: { requests_per_second: 10_000, burst: 10_000 } } },
      auth: {
        dir: join(cwd, 'data/auths'),
        client_keys_file: join(cwd, 'data/client-keys.json'),
        encryption: { key_file: join(cwd, 'data/encryption.key') },
        api_keys: [{ id: 'ci', key_sha256: sha256Hex(clientKey), budgets: { tokens_per_day: 10 * estimate } }],
      },
      state: { backend: 'redis', url: redis.url },
      audit: { file: join(cwd, 'data/logs/audit.jsonl') },
      providers: { oai: { type: 'openai', base_url: upstream.baseUrl, allow_private_network: true, api_keys: ['test-upstream-key-0001'], models: [{ name: 'gpt-test' }] } },
    };
    mkdirSync(cwd, { recursive: true, mode: 0o700 });
    writeFileSync(join(cwd, 'config.yaml'), stringify(config), { mode: 0o600 });
    const running = runBinary(['serve', '--config', join(cwd, 'config.yaml')], cwd);
    children.push(running.child);
    return within(running.url, 50_000, `${name} to listen:\n${running.output()}`);
  }

  // Two processes start and 50 requests run: bounded at 120 s for a loaded machine (each wait below
  // waits for its event, not a fixed time).
  it('50 concurrent requests over both processes admit exactly 10', { timeout: 120_000 }, async () => {
    const [first, second] = await Promise.all([startProcess('first'), startProcess('second')]);
    let refused = 0;
    const answers = Array.from({ length: 50 }, (_, index) =>
      post(`${index % 2 === 0 ? first : second}/v1/chat/completions`, body, { authorization: `Bearer ${clientKey}` }).then((answer) => {
        if (answer.status === 429) refused += 1;
        return answer;
      }),
    );
    // Abandoned only if the test fails: their sockets then close with the processes, unobserved.
    for (const answer of answers) answer.catch(() => undefined);
    await until(() => refused === 40, 60_000, '40 refusals');
    await upstream.waitForReceived(10, 60_000);
    expect(upstream.received()).toBe(10);
    upstream.release();
    const settled = await Promise.all(answers);
    expect(settled.filter((answer) => answer.status === 200)).toHaveLength(10);
    const refusals = settled.filter((answer) => answer.status === 429);
    expect(refusals.map((answer) => (answer.json as { error: { code: string } }).error.code)).toEqual(Array.from({ length: 40 }, () => 'GW_KEY_BUDGET_EXCEEDED'));
    // A budget counted per process would have admitted 10 in each (20): it is one counter in Redis.
  });
});
