import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OAuth authorization server on loopback for login tests: it plays the consent page (`approve`
 * and `deny` turn an authorize URL into the redirect the browser would follow) and the token
 * endpoint, which checks the authorization-code grant like a real one: the code is single-use and
 * bound to the client id, redirect URI and PKCE challenge it was issued for (S256 only). Tokens are
 * canaries made at run time, so a test can look for them in every output.
 */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
}

export interface TokenCall {
  contentType: string | undefined;
  fields: Record<string, string>;
}

export function canary(label: string): string {
  return `canary-${label}-${randomBytes(12).toString('hex')}`;
}

export class OAuthStub {
  readonly calls: TokenCall[] = [];
  readonly issued: IssuedTokens[] = [];
  /** Seconds the issued access tokens live. */
  expiresInSeconds = 3600;
  /** The account in the answer: Claude's `account.email_address` and an ID token's `email` claim. */
  email = 'user@example.test';
  private readonly codes = new Map<string, PendingCode>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }

  /** The consent page said yes: the redirect URL with a fresh code and the request's state. */
  approve(authorizeUrl: string): string {
    const query = new URL(authorizeUrl).searchParams;
    if (query.get('code_challenge_method') !== 'S256') throw new Error('the stub only issues codes for S256 challenges');
    const code = canary('code');
    this.codes.set(code, { clientId: query.get('client_id') ?? '', redirectUri: query.get('redirect_uri') ?? '', challenge: query.get('code_challenge') ?? '' });
    const redirect = new URL(query.get('redirect_uri') ?? '');
    redirect.searchParams.set('code', code);
    redirect.searchParams.set('state', query.get('state') ?? '');
    return redirect.toString();
  }

  /** The consent page said no. */
  deny(authorizeUrl: string): string {
    const query = new URL(authorizeUrl).searchParams;
    const redirect = new URL(query.get('redirect_uri') ?? '');
    redirect.searchParams.set('error', 'access_denied');
    redirect.searchParams.set('state', query.get('state') ?? '');
    return redirect.toString();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const contentType = request.headers['content-type'];
    const fields: Record<string, string> = contentType?.startsWith('application/json') === true ? (JSON.parse(text) as Record<string, string>) : Object.fromEntries(new URLSearchParams(text));
    this.calls.push({ contentType, fields });
    const refuse = (error: string) => response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error, error_description: `refused: ${error}` }));
    if (fields.grant_type === 'authorization_code') {
      const pending = this.codes.get(fields.code ?? '');
      this.codes.delete(fields.code ?? ''); // single use, even when refused
      if (pending === undefined) return void refuse('invalid_grant');
      if (pending.clientId !== fields.client_id || pending.redirectUri !== fields.redirect_uri) return void refuse('invalid_grant');
      if (createHash('sha256').update(fields.code_verifier ?? '', 'ascii').digest('base64url') !== pending.challenge) return void refuse('invalid_grant');
    } else if (fields.grant_type === 'refresh_token') {
      if (!this.issued.some((tokens) => tokens.refreshToken === fields.refresh_token)) return void refuse('invalid_grant');
    } else {
      return void refuse('unsupported_grant_type');
    }
    const issued = { accessToken: canary('access'), refreshToken: canary('refresh') };
    this.issued.push(issued);
    const claims = Buffer.from(JSON.stringify({ email: this.email, 'https://api.openai.com/auth': { chatgpt_account_id: 'account-test-1' } })).toString('base64url');
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        access_token: issued.accessToken,
        refresh_token: issued.refreshToken,
        id_token: `eyJhbGciOiJub25lIn0.${claims}.`,
        token_type: 'Bearer',
        expires_in: this.expiresInSeconds,
        account: { email_address: this.email },
      }),
    );
  }
}

/**
 * What the browser does with a redirect to the loopback server: a GET to 127.0.0.1 with the Host
 * the URL names (`localhost:PORT`). Resolves with the status, or the connect error's code.
 */
export function visit(url: string, hostOverride?: string): Promise<{ status: number; body: string } | { error: string }> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const outgoing = httpRequest(
      { host: '127.0.0.1', port: Number(target.port), path: `${target.pathname}${target.search}`, method: 'GET', headers: { host: hostOverride ?? target.host }, timeout: 5_000 },
      (incoming) => {
        const pieces: Buffer[] = [];
        incoming.on('data', (piece: Buffer) => pieces.push(piece));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(pieces).toString('utf8') }));
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    outgoing.end();
  });
}
