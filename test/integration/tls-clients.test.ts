import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStandardSetup, type StandardSetup } from '../helpers/standard-setup.js';
import { createTestCertificateAuthority, createTestLeafCertificate } from '../helpers/tls-certificates.js';

/**
 * The real SDK clients over TLS, trusting the gateway's certificate through a custom CA (what an
 * operator with a private CA configures), and refusing the gateway when they do not trust it.
 */
let workDirectory: string;
let setup: StandardSetup;
let trustingAgent: Agent;

/** An SDK `fetch` that trusts only `ca`: the SDKs take any fetch, undici's takes a dispatcher. */
function fetchTrusting(agent: Agent): typeof globalThis.fetch {
  return ((url: string, init?: Record<string, unknown>) => undiciFetch(url, { ...init, dispatcher: agent })) as unknown as typeof globalThis.fetch;
}

beforeAll(async () => {
  workDirectory = await mkdtemp(join(tmpdir(), 'cliproxy-tls-sdk-'));
  const served = join(workDirectory, 'served');
  await mkdir(served, { mode: 0o700 });
  const authority = await createTestCertificateAuthority(workDirectory);
  const leaf = await createTestLeafCertificate(authority, 'server', { directory: served });
  trustingAgent = new Agent({ connect: { ca: authority.caCert } });
  setup = await startStandardSetup({ extra: { server: { tls: { enabled: true, cert_file: leaf.certFile, key_file: leaf.keyFile } } } });
}, 60_000);

afterAll(async () => {
  await setup?.stop();
  await trustingAgent?.close();
  await rm(workDirectory, { recursive: true, force: true });
});

it('the openai and anthropic SDKs work over TLS with a custom CA, streamed and not', async () => {
  const { url, clientKey } = setup.testGateway;
  expect(url.startsWith('https://')).toBe(true);
  const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: clientKey, maxRetries: 0, timeout: 10_000, fetch: fetchTrusting(trustingAgent) });
  const completion = await openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hi' }] });
  expect(completion.choices[0]?.message.content).toBe('Hello from the OpenAI stub.');

  const anthropic = new Anthropic({ baseURL: url, apiKey: clientKey, maxRetries: 0, timeout: 10_000, fetch: fetchTrusting(trustingAgent) });
  const stream = anthropic.messages.stream({ model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
  const message = await stream.finalMessage();
  expect(message.content[0]).toMatchObject({ type: 'text', text: 'Hello from the Anthropic stub.' });
});

it('a client that does not trust the CA refuses the connection', async () => {
  const openai = new OpenAI({ baseURL: `${setup.testGateway.url}/v1`, apiKey: setup.testGateway.clientKey, maxRetries: 0, timeout: 10_000 });
  await expect(openai.models.list()).rejects.toThrow(/Connection error/);
});
