import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { createMemorySecurityEvents } from '../../src/credentials/security-events.js';
import { sha256Hex } from './gateway.js';

/**
 * Helpers for the management API tests: keys made at test time (one per role), a caller that sets
 * the management key header and, when asked, the local address of the socket (Linux routes all of
 * 127.0.0.0/8 to loopback, so `127.0.0.3` is a second real peer on the same host).
 */
export type TestRole = 'admin' | 'operator' | 'auditor';

export interface ManagementKeys {
  readonly keys: Readonly<Record<TestRole, string>>;
  /** The `management:` config block with these keys (as hashes) and the given extras. */
  config(extra?: Record<string, unknown>): Record<string, unknown>;
}

export function generateManagementKeys(): ManagementKeys {
  const make = (role: TestRole) => `test-management-${role}-${randomBytes(16).toString('hex')}`;
  const keys = { admin: make('admin'), operator: make('operator'), auditor: make('auditor') };
  return {
    keys,
    config: (extra = {}) => ({
      enabled: true,
      keys: (Object.keys(keys) as TestRole[]).map((role) => ({ id: `${role}-key`, role, key_sha256: sha256Hex(keys[role]) })),
      ...extra,
    }),
  };
}

export interface ManagementAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: { error?: { code?: string; message?: string } } & Record<string, unknown>;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer`; omit for no key. */
  key?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** A dispatcher (an Agent bound to a local address, or trusting a test CA). */
  dispatcher?: Agent;
}

const agents = new Map<string, Agent>();

/** An undici Agent whose sockets leave from `localAddress` (kept for the test run, closed by closeAgents). */
export function agentFrom(localAddress: string): Agent {
  let agent = agents.get(localAddress);
  if (agent === undefined) {
    agent = new Agent({ localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

export async function closeAgents(): Promise<void> {
  await Promise.all([...agents.values()].map((agent) => agent.close()));
  agents.clear();
}

export async function callManagement(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<ManagementAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers['authorization'] = `Bearer ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await request(`${baseUrl}${path}`, {
    method: method as 'GET',
    headers,
    ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await response.body.text();
  let json: ManagementAnswer['json'] = {};
  try {
    json = JSON.parse(text) as ManagementAnswer['json'];
  } catch {
    // not JSON: left empty, the test looks at `text`
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

/** A security event sink that keeps every event, for the audit assertions. */
export const recordingEvents = createMemorySecurityEvents;
