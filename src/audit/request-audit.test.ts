import { afterEach, describe, expect, it } from 'vitest';
import { clearRegisteredSecrets, registerSecrets } from '../security/redact.js';
import type { AuditEvent } from './audit-record.js';
import { createAuthenticationAudit, requestFields, type AuditedExchange } from './request-audit.js';
import { canary } from './__fixtures__/audit-test-support.js';

function exchange(overrides: Partial<AuditedExchange> = {}): AuditedExchange {
  return {
    requestId: '0b5e7a52-9a1f-4c2e-8d55-3f1e2a9b7c10',
    requestIdFromClient: false,
    clientIp: '203.0.113.9',
    principal: { id: 'alice', source: 'client-key' },
    requestedModel: 'sonnet',
    route: { provider: 'claude', upstreamModel: 'claude-sonnet-4-5' },
    attempts: [{ credentialId: 'claude-key-1' }, { credentialId: 'claude-key-2' }, { credentialId: 'claude-key-1' }],
    firstByteMs: 12.5,
    usage: { inputTokens: 100, outputTokens: 20, cachedTokens: undefined },
    outcome: { status: 200, errorCode: undefined, clientAborted: false },
    endedAt: Date.UTC(2026, 11, 3, 12, 0, 0, 7),
    durationMs: 40.1,
    ...overrides,
  };
}

const parse = (fields: string) => JSON.parse(`{${fields}}`) as Record<string, unknown>;

describe('per-request audit record', () => {
  afterEach(() => clearRegisteredSecrets());

  it('holds the request metadata as JSON in the writer\'s field order', () => {
    const record = parse(requestFields(exchange(), 'alice'));
    expect(Object.keys(record)).toEqual(['timestamp', 'event_type', 'result', 'user_id', 'ip', 'provider', 'request_id', 'actor', 'credential_ids', 'detail']);
    expect(record).toMatchObject({ timestamp: '2026-12-03T12:00:00.007Z', event_type: 'provider-request', result: 'success', user_id: 'alice', provider: 'claude' });
    expect(record['credential_ids']).toEqual(['claude-key-1', 'claude-key-2']);
    expect(record['detail']).toEqual({
      model: 'sonnet', upstream_model: 'claude-sonnet-4-5', status: 200, error_code: null, input_tokens: 100, output_tokens: 20,
      cached_tokens: null, latency_ms: 40.1, first_byte_ms: 12.5, attempts: 3, aborted: false,
    });
    expect(parse(requestFields(exchange({ route: undefined, attempts: [], outcome: { status: 400, errorCode: 'GW_INVALID_REQUEST', clientAborted: false } }), 'alice'))).toMatchObject({
      event_type: 'client-request', result: 'failure', provider: null, credential_ids: null,
    });
  });

  it('redacts client-chosen values (model, request id), also a secret registered after the value was first seen', () => {
    const secret = canary('model');
    const first = requestFields(exchange({ requestedModel: secret }), 'alice');
    expect(first).toContain(secret); // not a secret yet: nothing to mask
    registerSecrets([secret]);
    const later = requestFields(exchange({ requestedModel: secret, requestId: `sk-${canary('id').replace(/-/g, '')}`, requestIdFromClient: true }), 'alice');
    expect(later).not.toContain(secret);
    expect(later).not.toMatch(/canary/);
    expect(parse(later)['request_id']).toBe('sk-***');
  });
});

describe('authentication audit', () => {
  it('records every refusal with its reason, and a key\'s success once per address per window', () => {
    const events: AuditEvent[] = [];
    let now = 0;
    const audit = createAuthenticationAudit({ record: (event) => void events.push(event) }, { successWindowMs: 1_000, now: () => now });
    const alice = { id: 'alice', source: 'client-key' };
    audit.accepted(alice, '198.51.100.1', 'r1');
    audit.accepted(alice, '198.51.100.1', 'r2');
    audit.accepted(alice, '198.51.100.2', 'r3');
    now = 1_500;
    audit.accepted(alice, '198.51.100.1', 'r4');
    audit.refused('unknown key', 'client', '198.51.100.9', 'r5');
    audit.refused('unknown key', 'client', '198.51.100.9', 'r6');
    expect(events.map((event) => [event.event_type, event.ip, event.request_id])).toEqual([
      ['auth-success', '198.51.100.1', 'r1'],
      ['auth-success', '198.51.100.2', 'r3'],
      ['auth-success', '198.51.100.1', 'r4'],
      ['auth-failure', '198.51.100.9', 'r5'],
      ['auth-failure', '198.51.100.9', 'r6'],
    ]);
    expect(events[3]?.detail).toEqual({ scope: 'client', reason: 'unknown key' });
  });

  it('remembers a bounded number of addresses: a spray of addresses cannot grow it', () => {
    const events: AuditEvent[] = [];
    const audit = createAuthenticationAudit({ record: (event) => void events.push(event) }, { maxRemembered: 3, now: () => 0 });
    const alice = { id: 'alice', source: 'client-key' };
    for (let index = 0; index < 10; index++) audit.accepted(alice, `2001:db8::${index}`, `r${index}`);
    // The oldest were forgotten: the first address counts as new again, the last one not.
    audit.accepted(alice, '2001:db8::0', 'again');
    audit.accepted(alice, '2001:db8::9', 'not-again');
    expect(events.map((event) => event.request_id).slice(-2)).toEqual(['r9', 'again']);
  });
});
