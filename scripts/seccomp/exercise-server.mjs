#!/usr/bin/env node
/**
 * Runs the built server under `strace -f` and drives a real workload through it, so the seccomp
 * profile is derived from what the server actually does rather than from a guess. Used by
 * scripts/derive-seccomp.sh; plain Node (no TypeScript, no dev dependencies) so it runs anywhere
 * `dist/` exists.
 *
 *   node scripts/seccomp/exercise-server.mjs --trace FILE [--container ROOTFS [--seccomp PROFILE]] [--requests N]
 *
 * Without --container the server runs on the host (`node dist/cli/main.js serve`). With it, the
 * server runs in the assembled rootfs under podman + runc with the deployment posture but podman's
 * DEFAULT seccomp profile (a derivation must not be limited by the profile it derives); strace
 * follows podman → conmon → runc init → node, and the parser keeps only what runc init does after
 * it installed the filter plus everything the containerized node does. With --seccomp the same
 * workload runs under a given profile: how derive-seccomp.sh verifies the profile it wrote.
 *
 * The workload mirrors the integration suite against the real binary: health and readiness,
 * model listing, OpenAI and Anthropic clients in both directions (translated), streaming and not,
 * an upstream 500 with failover to the next key, a refused upstream, an upstream by host name (DNS), a client abort mid-stream,
 * bad JSON, an oversized body, an unknown model, a wrong client key, a hot reload of the config,
 * a concurrent load run, then SIGTERM and a graceful exit. Around the start: a stale temp file swept,
 * the audit key created once (`createPrivateFileExclusive`: write, fsync, link(2) into place) and
 * a stale lock left by a dead process broken (rename aside, unlink) before the first audit flush.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: options } = parseArgs({
  options: {
    trace: { type: 'string' },
    container: { type: 'string' },
    seccomp: { type: 'string' },
    requests: { type: 'string', default: '2000' },
  },
});
if (options.trace === undefined) {
  console.error('usage: exercise-server.mjs --trace FILE [--container ROOTFS] [--requests N]');
  process.exit(2);
}
const totalRequests = Number(options.requests);

/** Stub upstreams: one OpenAI-compatible, one Anthropic Messages API. Fault switches per request. */
const faults = { failNextOpenAIWith500: 0, hang: false };
function sse(response, frames) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let index = 0;
  const next = () => {
    if (index === frames.length) return response.end();
    response.write(frames[index++]);
    setTimeout(next, faults.hang ? 200 : 1);
  };
  next();
}
function readBody(request) {
  return new Promise((resolveBody) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
  });
}
const openaiStub = createServer(async (request, response) => {
  const body = JSON.parse((await readBody(request)) || '{}');
  if (request.url === '/v1/models') return response.end(JSON.stringify({ object: 'list', data: [] }));
  if (faults.failNextOpenAIWith500 > 0) {
    faults.failNextOpenAIWith500--;
    response.writeHead(500, { 'content-type': 'application/json' });
    return response.end(JSON.stringify({ error: { message: 'stub failure', type: 'server_error', param: null, code: null } }));
  }
  const base = { id: 'chatcmpl-stub', created: 1735689600, model: body.model };
  if (body.stream === true) {
    const chunk = (delta, finish) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const words = faults.hang ? Array.from({ length: 50 }, () => 'slow ') : ['Hello', ' from', ' the', ' stub'];
    return sse(response, [chunk({ role: 'assistant', content: '' }, null), ...words.map((word) => chunk({ content: word }, null)), chunk({}, 'stop'), 'data: [DONE]\n\n']);
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the stub' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }));
});
const anthropicStub = createServer(async (request, response) => {
  const body = JSON.parse((await readBody(request)) || '{}');
  const usage = { input_tokens: 3, output_tokens: 4 };
  if (request.url === '/v1/messages/count_tokens') return response.end(JSON.stringify({ input_tokens: 3 }));
  if (body.stream === true) {
    const event = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    return sse(response, [
      event('message_start', { message: { id: 'msg_stub', type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage } }),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello from the stub' } }),
      event('content_block_stop', { index: 0 }),
      event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } }),
      event('message_stop', {}),
    ]);
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ id: 'msg_stub', type: 'message', role: 'assistant', model: body.model, content: [{ type: 'text', text: 'Hello from the stub' }], stop_reason: 'end_turn', stop_sequence: null, usage }));
});
const listen = async (server) => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
};
const openaiPort = await listen(openaiStub);
const anthropicPort = await listen(anthropicStub);
const refused = createNetServer();
const refusedPort = await listen(refused);
refused.close();

/** Config and volumes. In a container they are owned by 65534 like a real deployment's. */
const work = mkdtempSync(join(tmpdir(), 'cliproxy-seccomp-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true })); // also when the workload fails
const configDirectory = join(work, 'config');
const authsDirectory = join(work, 'auths');
const logsDirectory = join(work, 'logs');
mkdirSync(configDirectory, { mode: 0o755 });
for (const directory of [authsDirectory, logsDirectory]) {
  mkdirSync(directory);
  chmodSync(directory, 0o700); // the credential layer refuses a secrets directory others can enter
}
// A temp file a crash left behind: the startup sweep must be able to remove it (unlink).
const staleTemporary = join(authsDirectory, `.client-keys.json.${randomBytes(6).toString('hex')}.tmp`);
writeFileSync(staleTemporary, '{}', { mode: 0o600 });
utimesSync(staleTemporary, new Date(Date.now() - 86_400_000), new Date(Date.now() - 86_400_000));
// A lock a killed process left on the audit file (pid gone, an hour old): the first audit write must
// break it (file-lock.ts breakStaleLock: rename aside, lstat, unlink; link(2) back when it lost a race).
const staleLock = join(logsDirectory, '.audit.jsonl.lock');
writeFileSync(staleLock, '999999 0123456789abcdef\n', { mode: 0o600 });
utimesSync(staleLock, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
// Missing at start: serve creates it once with createPrivateFileExclusive, which links the fsync-ed
// temp file into place (link fails on an existing name, so two starts agree on one key).
const auditKeyFile = join(logsDirectory, 'audit.key');
const clientKey = `cpa_workload_${randomBytes(24).toString('hex')}`;
const inContainer = options.container !== undefined;
const volumePath = (host, container) => (inContainer ? container : host);
const configText = (extraModel) => `server:
  host: 127.0.0.1
  port: 0
  body_limit_bytes: 65536
  # The load run sends 2000 requests from one address: the per-IP limit would refuse most of them
  # (a 429 makes no syscall the profile needs that a 200 does not make), so it is set out of reach.
  security: { rate_limit: { enabled: true, requests_per_second: 100000, burst: 100000 } }
auth:
  client_keys_file: ${volumePath(join(authsDirectory, 'client-keys.json'), '/auths/client-keys.json')}
  dir: ${volumePath(authsDirectory, '/auths')}
  encryption:
    key_file: ${volumePath(join(authsDirectory, 'encryption.key'), '/auths/encryption.key')}
  api_keys:
    - { id: workload, key_sha256: ${createHash('sha256').update(clientKey).digest('hex')} }
audit:
  file: ${volumePath(join(logsDirectory, 'audit.jsonl'), '/logs/audit.jsonl')}
  key_file: ${volumePath(auditKeyFile, '/logs/audit.key')}
providers:
  oai:
    type: openai
    base_url: http://127.0.0.1:${openaiPort}/v1
    allow_private_network: true
    api_keys: ["test-upstream-key-0001", "test-upstream-key-0002"]
    models: [{ name: gpt-stub }${extraModel ? ', { name: gpt-reloaded }' : ''}]
  ant:
    type: anthropic
    base_url: http://127.0.0.1:${anthropicPort}
    allow_private_network: true
    api_keys: ["test-upstream-key-0003"]
    models: [{ name: claude-stub }]
  named:
    type: openai
    base_url: http://upstream-dns-probe.invalid:${refusedPort}/v1
    api_keys: ["test-upstream-key-0005"]
    models: [{ name: named-model }]
  dead:
    type: openai
    base_url: http://127.0.0.1:${refusedPort}/v1
    allow_private_network: true
    api_keys: ["test-upstream-key-0004"]
    models: [{ name: dead-model }]
`;
const configFile = join(configDirectory, 'config.yaml');
// The config holds upstream keys: 0600, owned by the user the server runs as (65534 in the container).
writeFileSync(configFile, configText(false), { mode: 0o600 });
if (inContainer) {
  for (const path of [configFile, staleTemporary, staleLock, authsDirectory, logsDirectory]) chownSync(path, 65534, 65534);
}

const serverCommand = inContainer
  ? ['podman', '--runtime', 'runc', 'run', '--rm', '--read-only', '--cap-drop', 'ALL', '--user', '65534:65534',
      '--security-opt', 'no-new-privileges', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
      '--pids-limit', '256', '--memory', '512m', '--network', 'host',
      ...(options.seccomp === undefined ? [] : ['--security-opt', `seccomp=${resolve(options.seccomp)}`]),
      '--read-only-tmpfs=false', '--tmpfs', '/tmp:rw,noexec,nosuid,nodev,size=100m,mode=1777',
      '-v', `${configDirectory}:/config:ro`, '-v', `${authsDirectory}:/auths`, '-v', `${logsDirectory}:/logs`,
      '--rootfs', resolve(options.container), '/nodejs/bin/node', '/app/dist/cli/main.js', 'serve', '--config', '/config/config.yaml']
  : [process.execPath, join(root, 'dist/cli/main.js'), 'serve', '--config', configFile];
// -s 256: strace cuts strings at 32 characters by default, and the parser finds the server by
// `dist/cli/main.js` in its execve arguments; from a checkout whose path is longer than 16
// characters the name was cut and the derivation found no server in the trace.
const server = spawn('strace', ['-f', '-qq', '-s', '256', '-o', resolve(options.trace), ...serverCommand], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
});
let output = '';
const listening = new Promise((resolveUrl, rejectUrl) => {
  const take = (chunk) => {
    output += chunk.toString();
    const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
    if (match) resolveUrl(match[1]);
  };
  server.stdout.on('data', take);
  server.stderr.on('data', take);
  server.on('exit', (code) => rejectUrl(new Error(`server exited (${code}) before listening:\n${output}`)));
  setTimeout(() => rejectUrl(new Error(`server did not listen within 60 s:\n${output}`)), 60_000).unref();
});
const url = await listening;
const auth = { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' };
const results = new Map();
const record = (name, status) => results.set(name, [...(results.get(name) ?? []), status]);
async function call(name, path, init = {}) {
  const response = await fetch(`${url}${path}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });
  await response.arrayBuffer();
  record(name, response.status);
  return response.status;
}
const chat = (model, stream) => JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] });
const messages = (model, stream) => JSON.stringify({ model, stream, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

await call('healthz', '/healthz');
await call('readyz', '/readyz');
await call('models', '/v1/models');
await call('wrong key', '/v1/models', { headers: { authorization: 'Bearer cpa_wrong_key_for_the_workload_0000000000' } });
await call('chat', '/v1/chat/completions', { method: 'POST', body: chat('gpt-stub', false) });
await call('chat stream', '/v1/chat/completions', { method: 'POST', body: chat('gpt-stub', true) });
await call('chat to anthropic', '/v1/chat/completions', { method: 'POST', body: chat('claude-stub', false) });
await call('chat stream to anthropic', '/v1/chat/completions', { method: 'POST', body: chat('claude-stub', true) });
await call('messages', '/v1/messages', { method: 'POST', body: messages('claude-stub', false) });
await call('messages stream', '/v1/messages', { method: 'POST', body: messages('claude-stub', true) });
await call('messages to openai', '/v1/messages', { method: 'POST', body: messages('gpt-stub', true) });
await call('count tokens', '/v1/messages/count_tokens', { method: 'POST', body: messages('claude-stub', false) });
faults.failNextOpenAIWith500 = 1;
await call('failover after 500', '/v1/chat/completions', { method: 'POST', body: chat('gpt-stub', false) });
await call('refused upstream', '/v1/chat/completions', { method: 'POST', body: chat('dead-model', false) });
// A host name, not an IP literal: getaddrinfo's resolver calls (files, then DNS) must be allowed.
await call('named upstream', '/v1/chat/completions', { method: 'POST', body: chat('named-model', false) });
await call('bad json', '/v1/chat/completions', { method: 'POST', body: '{"model":' });
await call('too large', '/v1/chat/completions', { method: 'POST', body: chat('gpt-stub', false).replace('hi', 'x'.repeat(100_000)) });
await call('unknown model', '/v1/chat/completions', { method: 'POST', body: chat('no-such-model', false) });

// A client that goes away mid-stream: the server must abort the upstream request.
faults.hang = true;
const abort = new AbortController();
const aborted = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: auth, body: chat('gpt-stub', true), signal: abort.signal });
const reader = aborted.body.getReader();
await reader.read();
abort.abort();
await reader.read().catch(() => undefined);
faults.hang = false;
record('abort mid-stream', aborted.status);

// Hot reload: the watcher must see the edit and serve the new model.
writeFileSync(configFile, configText(true));
const deadline = Date.now() + 15_000;
let reloaded = false;
while (!reloaded && Date.now() < deadline) {
  const response = await fetch(`${url}/v1/models`, { headers: auth });
  reloaded = JSON.stringify(await response.json()).includes('gpt-reloaded');
  if (!reloaded) await new Promise((wait) => setTimeout(wait, 200));
}
record('hot reload', reloaded ? 200 : 0);

// Load: concurrent clients, a mix of streamed and non-streamed requests through both providers.
const started = Date.now();
let next = 0;
const worker = async () => {
  while (next < totalRequests) {
    const index = next++;
    const model = index % 3 === 0 ? 'claude-stub' : 'gpt-stub';
    await call('load', '/v1/chat/completions', { method: 'POST', body: chat(model, index % 2 === 0) });
  }
};
await Promise.all(Array.from({ length: 32 }, worker));
const loadSeconds = (Date.now() - started) / 1000;

// strace holds off signals sent to itself; signal the traced process (node, or podman, which
// proxies it to the container) directly.
const exitPromise = once(server, 'exit');
const tracee = Number(readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
process.kill(tracee, 'SIGTERM');
const [exitCode] = await exitPromise;
openaiStub.close();
anthropicStub.close();
// The start-up file work above happened: the key was linked into place, the stale lock broken.
record('audit key created', existsSync(auditKeyFile) && /^[0-9a-f]{64}\n$/.test(readFileSync(auditKeyFile, 'utf8')) ? 200 : 0);
record('stale lock broken', !existsSync(staleLock) || !readFileSync(staleLock, 'utf8').startsWith('999999 ') ? 200 : 0);
rmSync(work, { recursive: true, force: true });

const summary = [...results].map(([name, statuses]) => `${name}: ${[...new Set(statuses)].join('/')}${statuses.length > 1 ? ` ×${statuses.length}` : ''}`);
console.log(`workload (${inContainer ? 'container' : 'host'}): ${summary.join('; ')}; load ${totalRequests} requests in ${loadSeconds.toFixed(1)} s; server exit ${exitCode}`);
const expected = { healthz: 200, models: 200, 'wrong key': 401, chat: 200, 'chat stream': 200, 'chat to anthropic': 200, messages: 200, 'failover after 500': 200, 'hot reload': 200, 'audit key created': 200, 'stale lock broken': 200 };
const failures = Object.entries(expected).filter(([name, status]) => results.get(name)?.[0] !== status);
if (!results.get('load').every((status) => status === 200)) failures.push(['load', 'not all 200']);
if (exitCode !== 0 || failures.length > 0) {
  console.error(`workload failed: ${JSON.stringify(failures)} exit ${exitCode}\n${output.slice(-4000)}`);
  process.exit(1);
}
