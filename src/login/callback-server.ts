import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LoginError } from './login-error.js';
import { stateMatches } from './pkce.js';

/**
 * The one-shot loopback server the authorization server redirects the browser to (RFC 8252 §7.3).
 *
 * - Binds 127.0.0.1 only: nothing off this machine can reach it.
 * - Answers only requests whose Host is `localhost:PORT` or `127.0.0.1:PORT` (a DNS-rebinding page
 *   cannot reach it under another name) on the redirect path; anything else is a 404 that does not
 *   count as the callback.
 * - The first callback decides, and only it: a wrong or missing `state` aborts the login (it is not
 *   our browser coming back, possibly a forged redirect that would plant someone else's code), an
 *   `error` ends it as denied, a `code` completes it. Every later request gets 409, and the server
 *   closes: a second callback, replayed or racing, is refused.
 * - Ends after `timeoutMs` without a callback.
 *
 * Pages say what happened and never echo the code; they carry no-store, no-referrer (the callback
 * URL holds the code) and a CSP that allows nothing.
 */
export interface CallbackServerOptions {
  /** 0 = any free port. */
  port: number;
  path: string;
  expectedState: string;
  timeoutMs: number;
}

export interface CallbackServer {
  readonly port: number;
  /** Resolves with the authorization code, or rejects with a LoginError. Settles once. */
  readonly code: Promise<string>;
  /**
   * The redirect's query handed in another way than a browser reaching this server: a headless
   * server's admin pastes the URL the browser was sent to into the management API. The same rules
   * as a callback (state checked, first answer only): `taken` when this was the answer (the login
   * then succeeds or fails by it), `already-answered` when an earlier one decided.
   */
  deliver(query: URLSearchParams): 'taken' | 'already-answered';
  close(): Promise<void>;
}

const oauthErrorPattern = /^[A-Za-z0-9_.-]{1,64}$/;

function page(response: ServerResponse, status: number, title: string, text: string): void {
  const body = `<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p>${text}</p>\n`;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'",
    connection: 'close',
  });
  response.end(body);
}

export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  let settled = false;
  let resolveCode!: (code: string) => void;
  let rejectCode!: (error: LoginError) => void;
  const code = new Promise<string>((resolve, reject) => {
    resolveCode = resolve;
    rejectCode = reject;
  });
  // A rejection nobody awaited yet (close() before the caller reads `code`) must not crash the process.
  code.catch(() => undefined);
  let port = options.port;
  let timer: NodeJS.Timeout | undefined = undefined; // set once listening; finish() may run before (close)

  const server: Server = createServer((request, response) => {
    handle(request, response);
  });
  let serverClosed = false;
  server.on('close', () => {
    serverClosed = true;
  });
  server.maxHeadersCount = 50;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;

  const finish = (outcome: { code: string } | { error: LoginError }): void => {
    settled = true;
    clearTimeout(timer);
    if ('code' in outcome) resolveCode(outcome.code);
    else rejectCode(outcome.error);
    // No new connections; the answer in flight still goes out (connection: close ends it).
    server.close();
  };

  function handle(request: IncomingMessage, response: ServerResponse): void {
    const host = request.headers.host ?? '';
    if (host !== `localhost:${port}` && host !== `127.0.0.1:${port}`) {
      page(response, 400, 'Bad request', 'This address only answers the login redirect.');
      return;
    }
    const url = new URL(request.url ?? '/', `http://${host}`);
    if (request.method !== 'GET' || url.pathname !== options.path) {
      page(response, 404, 'Not found', 'This address only answers the login redirect.');
      return;
    }
    if (settled) {
      page(response, 409, 'Already used', 'This login already received its answer; start a new login if you need one.');
      return;
    }
    const decision = decide(url.searchParams);
    page(response, decision.status, decision.title, decision.text);
    finish(decision.outcome);
  }

  /** What one answer means: the page for the browser and the login's outcome. */
  function decide(query: URLSearchParams): { status: number; title: string; text: string; outcome: { code: string } | { error: LoginError } } {
    if (!stateMatches(options.expectedState, query.get('state'))) {
      return {
        status: 400,
        title: 'Login refused',
        text: 'The answer does not belong to the login started in the terminal (state mismatch). Nothing was stored.',
        outcome: { error: new LoginError('LOGIN_STATE_MISMATCH', 'login aborted: the callback carried a wrong or missing state (not the browser this login started, possibly a forged redirect); nothing was stored. Start the login again.') },
      };
    }
    const oauthError = query.get('error');
    if (oauthError !== null) {
      const shown = oauthErrorPattern.test(oauthError) ? oauthError : 'unknown';
      return {
        status: 200,
        title: 'Login not completed',
        text: `The provider answered "${shown}". Nothing was stored; you can close this tab.`,
        outcome: { error: new LoginError('LOGIN_DENIED', `login not completed: the provider answered "${shown}"${shown === 'access_denied' ? ' (consent was denied)' : ''}; nothing was stored`) },
      };
    }
    const received = query.get('code');
    if (received === null || received === '' || received.length > 4096) {
      return {
        status: 400,
        title: 'Login not completed',
        text: 'The answer carried no authorization code. Nothing was stored.',
        outcome: { error: new LoginError('LOGIN_DENIED', 'login not completed: the callback carried no authorization code; nothing was stored') },
      };
    }
    return { status: 200, title: 'Signed in', text: 'The terminal finishes the login now; you can close this tab.', outcome: { code: received } };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new LoginError('LOGIN_CALLBACK_PORT_BUSY', `port ${options.port} on 127.0.0.1 is in use, and the provider accepts its login redirect on that port only; stop what uses it (another login, the official CLI) and try again`)
          : new LoginError('LOGIN_CALLBACK_PORT_BUSY', `the login callback server could not listen on 127.0.0.1:${options.port} (${error.code ?? 'unknown error'})`),
      );
    });
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  timer = setTimeout(() => {
    if (!settled) finish({ error: new LoginError('LOGIN_TIMEOUT', `login timed out: no answer from the browser within ${Math.round(options.timeoutMs / 1000)} s; nothing was stored`) });
  }, options.timeoutMs);
  timer.unref();

  return {
    port,
    code,
    deliver(query) {
      if (settled) return 'already-answered';
      finish(decide(query).outcome);
      return 'taken';
    },
    close: async () => {
      if (!settled) finish({ error: new LoginError('LOGIN_TIMEOUT', 'login cancelled; nothing was stored') });
      if (serverClosed) return;
      // The answer page may still be on its way out: idle sockets (a browser's pre-connects) go
      // now, the answering one ends by itself (connection: close), and after 1 s everything goes.
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 1_000);
        force.unref();
        server.once('close', () => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
