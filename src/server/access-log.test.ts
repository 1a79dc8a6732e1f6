import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { clearRegisteredSecrets, registerSecrets } from '../security/redact.js';
import { createPrincipal } from '../security/principal.js';
import { createAccessLogObserver } from './access-log.js';
import type { Exchange } from './exchange.js';
import { createLogger } from './logger.js';

function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  return { stream, lines };
}

/**
 * A finished record with the access log's fields; the keys mirror the request fields it replaced.
 * `id` is a client-sent request id, `generatedId` one the gateway made.
 */
function exchange(fields: Partial<Record<'id' | 'generatedId' | 'url' | 'principalId' | 'routedProvider' | 'gatewayErrorCode', string>>): Exchange {
  return {
    requestId: fields.generatedId ?? fields.id ?? 'req-0001',
    requestIdFromClient: fields.generatedId === undefined,
    clientIp: '127.0.0.1',
    method: 'POST',
    url: fields.url ?? '/v1/chat/completions',
    startedAt: 0,
    startedAtMonotonic: 0,
    principal: fields.principalId === undefined ? undefined : createPrincipal(fields.principalId, 'client-key'),
    authFailure: undefined,
    surface: undefined,
    requestedModel: undefined,
    route: fields.routedProvider === undefined ? undefined : { provider: fields.routedProvider, upstreamModel: 'm', bridge: 'openai-chat-pass-through' },
    attempts: [],
    firstByteMs: undefined,
    usage: undefined,
    outcome: { status: 200, errorCode: fields.gatewayErrorCode, clientAborted: false },
    endedAt: 1,
    durationMs: 1.3,
  };
}

afterEach(() => clearRegisteredSecrets());

describe('createAccessLogObserver', () => {
  it("writes pino's line format with the request's fields, omitting the unset ones", () => {
    const { stream, lines } = capture();
    const write = (record: Exchange): void => createAccessLogObserver(createLogger({ level: 'info', destination: stream })).end?.(record);
    write(exchange({ principalId: 'alice', routedProvider: 'openai' }));
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, reqId: 'req-0001', method: 'POST', url: '/v1/chat/completions', status: 200, ms: 1.3, key_id: 'alice', provider: 'openai', msg: 'request' });
    expect(typeof line.time).toBe('number');
    expect(line).not.toHaveProperty('code');
  });

  it('redacts the client-controlled values: URL query keys, key shapes in the path, registered secrets, the request id', () => {
    registerSecrets(['test-upstream-key-0001']);
    const { stream, lines } = capture();
    const write = (record: Exchange): void => createAccessLogObserver(createLogger({ level: 'info', destination: stream })).end?.(record);
    write(exchange({ url: '/v1/models?key=test-client-key-abcdef' }));
    write(exchange({ url: '/v1beta/models/sk-abcdefghijklmnop:generateContent' }));
    write(exchange({ url: '/v1/x/test-upstream-key-0001' }));
    write(exchange({ id: 'sk-abcdefghijklmnopqrst' }));
    const text = lines.join('\n');
    expect(text).not.toContain('test-client-key-abcdef');
    expect(text).not.toContain('abcdefghijklmnop');
    expect(text).not.toContain('test-upstream-key-0001');
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('masks a URL it logged as it was before, once a secret in it is registered (the logged-URL cache follows the secrets)', () => {
    const { stream, lines } = capture();
    const observer = createAccessLogObserver(createLogger({ level: 'info', destination: stream }));
    observer.end?.(exchange({ url: '/v1/x/test-late-secret-0001' }));
    registerSecrets(['test-late-secret-0001']);
    observer.end?.(exchange({ url: '/v1/x/test-late-secret-0001' }));
    expect(JSON.parse(lines[0]!)).toMatchObject({ url: '/v1/x/test-late-secret-0001' });
    expect(lines[1]).not.toContain('test-late-secret-0001');
  });

  it('logs every URL of a spray of distinct paths, and a query key still masked between them', () => {
    const { stream, lines } = capture();
    const observer = createAccessLogObserver(createLogger({ level: 'info', destination: stream }));
    for (let index = 0; index < 300; index += 1) {
      observer.end?.(exchange({ url: `/v1/path-${index}` }));
      observer.end?.(exchange({ url: '/v1/models?key=test-client-key-abcdef' }));
    }
    expect(lines).toHaveLength(600);
    expect(JSON.parse(lines[598]!)).toMatchObject({ url: '/v1/path-299' });
    expect(lines.join('\n')).not.toContain('test-client-key-abcdef');
  });

  it('logs a generated (UUID) request id as it is', () => {
    registerSecrets(['test-upstream-key-0001']);
    const { stream, lines } = capture();
    createAccessLogObserver(createLogger({ level: 'info', destination: stream })).end?.(exchange({ generatedId: '0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0' }));
    expect(JSON.parse(lines[0]!)).toMatchObject({ reqId: '0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0' });
  });

  it('redacts a client-sent request id even when it has the shape of a generated one', () => {
    registerSecrets(['0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0']);
    const { stream, lines } = capture();
    createAccessLogObserver(createLogger({ level: 'info', destination: stream })).end?.(exchange({ id: '0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0' }));
    expect(lines[0]).not.toContain('0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0');
  });

  it('escapes what would break the JSON line', () => {
    const { stream, lines } = capture();
    const write = (record: Exchange): void => createAccessLogObserver(createLogger({ level: 'info', destination: stream })).end?.(record);
    write(exchange({ url: '/v1/"quoted"\\path', gatewayErrorCode: 'GW_NOT_FOUND' }));
    expect(JSON.parse(lines[0]!)).toMatchObject({ url: '/v1/"quoted"\\path', code: 'GW_NOT_FOUND' });
  });

  it('marks a request whose client went away before the answer was complete', () => {
    const { stream, lines } = capture();
    const record = exchange({});
    record.outcome = { status: 200, errorCode: undefined, clientAborted: true };
    createAccessLogObserver(createLogger({ level: 'info', destination: stream })).end?.(record);
    expect(JSON.parse(lines[0]!)).toMatchObject({ status: 200, aborted: true });
  });

  it('writes nothing when the level is above info', () => {
    const { stream, lines } = capture();
    const write = (record: Exchange): void => createAccessLogObserver(createLogger({ level: 'warn', destination: stream })).end?.(record);
    write(exchange({}));
    expect(lines).toEqual([]);
  });

  it('falls back to logger.info for a logger that is not pino', () => {
    const calls: unknown[][] = [];
    const logger = { info: (...parameters: unknown[]) => calls.push(parameters), level: 'info' } as unknown as FastifyBaseLogger;
    createAccessLogObserver(logger).end?.(exchange({ url: '/v1/models?key=test-client-key-abcdef' }));
    expect(calls).toHaveLength(1);
    expect(JSON.stringify(calls[0])).not.toContain('test-client-key-abcdef');
  });
});
