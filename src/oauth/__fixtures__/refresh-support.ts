import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CredentialListing, CredentialStore, StoredCredentialRecord } from '../../credentials/types.js';

/** A canary token made at run time (nothing secret-shaped lives in the source). */
export function canary(label: string): string {
  return `canary-${label}-${randomBytes(12).toString('hex')}`;
}

/**
 * In-memory CredentialStore for refresh tests (part A's encrypted file store is tested on its own).
 * `events` records every write in order, so tests can check "persisted before handed out".
 */
export class MemoryCredentialStore implements CredentialStore {
  readonly records = new Map<string, StoredCredentialRecord>();
  readonly events: string[] = [];
  /** When set, the next write calls it instead of storing (throw to simulate a failed write / crash). */
  failNextWrite: (() => never) | undefined;
  writeCount = 0;

  constructor(records: StoredCredentialRecord[] = []) {
    for (const record of records) this.records.set(record.id, structuredClone(record));
  }

  list(): Promise<CredentialListing[]> {
    return Promise.resolve(
      [...this.records.values()].map((record) => ({
        id: record.id,
        provider: record.provider,
        kind: record.kind,
        ...(record.email === undefined ? {} : { email: record.email }),
        ...(record.expires_at === undefined ? {} : { expires_at: record.expires_at }),
        kid: 'test',
        updated_at: record.updated_at,
      })),
    );
  }

  read(id: string): Promise<StoredCredentialRecord> {
    const record = this.records.get(id);
    return record === undefined ? Promise.reject(new Error(`no credential ${id}`)) : Promise.resolve(structuredClone(record));
  }

  write(record: StoredCredentialRecord): Promise<void> {
    const failure = this.failNextWrite;
    if (failure !== undefined) {
      this.failNextWrite = undefined;
      this.events.push(`write-failed:${record.id}`);
      return Promise.reject(new Error('disk full (simulated)'));
    }
    this.writeCount += 1;
    this.records.set(record.id, structuredClone(record));
    this.events.push(`write:${record.id}:${record.access_token ?? ''}`);
    return Promise.resolve();
  }

  delete(id: string): Promise<void> {
    this.records.delete(id);
    return Promise.resolve();
  }
}

export function oauthRecord(overrides: Partial<StoredCredentialRecord> & { id: string; access_token: string; refresh_token: string }): StoredCredentialRecord {
  return {
    provider: 'claude',
    kind: 'oauth',
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export type StubMode = 'rotate' | 'hang' | 'invalid_grant' | 'server_error';

export interface TokenStubCall {
  contentType: string | undefined;
  body: string;
}

/**
 * A token endpoint on loopback. `rotate` answers with a fresh access token AND a fresh refresh
 * token (single-use rotation, like Claude Code and Codex), after `delayMs`.
 */
export class TokenStub {
  readonly calls: TokenStubCall[] = [];
  mode: StubMode = 'rotate';
  delayMs = 0;
  expiresInSeconds = 8 * 3600;
  readonly issued: { accessToken: string; refreshToken: string }[] = [];
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/oauth/token`;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    this.calls.push({ contentType: request.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
    if (this.mode === 'hang') {
      this.hanging.add(response);
      return;
    }
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.mode === 'invalid_grant') {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant","error_description":"Refresh token revoked"}');
      return;
    }
    if (this.mode === 'server_error') {
      response.writeHead(500, { 'content-type': 'text/plain' }).end('oops');
      return;
    }
    const issued = { accessToken: canary('access'), refreshToken: canary('refresh') };
    this.issued.push(issued);
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ access_token: issued.accessToken, refresh_token: issued.refreshToken, expires_in: this.expiresInSeconds, token_type: 'Bearer' }));
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.hanging.clear();
    await new Promise<void>((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }
}

/** A logger that keeps every line as JSON text, as a real sink would write it. */
export function captureLogger(): { lines: string[]; info: (fields: Record<string, unknown>, message: string) => void; warn: (fields: Record<string, unknown>, message: string) => void } {
  const lines: string[] = [];
  return {
    lines,
    info: (fields, message) => void lines.push(JSON.stringify({ level: 'info', msg: message, ...fields })),
    warn: (fields, message) => void lines.push(JSON.stringify({ level: 'warn', msg: message, ...fields })),
  };
}
